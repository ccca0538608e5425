from . import (
    spp_dci_demo_enrolment,
    spp_dci_demo_person,
    spp_dci_demo_setup,
    spp_dci_demo_population,
    spp_dci_registry_demo,
)
