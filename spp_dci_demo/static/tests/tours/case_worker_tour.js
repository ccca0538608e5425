/** @odoo-module **/
// The case worker's path through the DCI screens, in a real browser (spp_dci_demo
// tests/test_case_worker_tour.py): find a registrant by UIN, check the IBR, check the
// disability registry, (verify with the CRVS,) import the CRVS births of the last 30
// days. Every step waits for what the case worker sees on the screen. The registrant is
// one of the generated demo population (the same on every install): Danilo Lim, held by
// the demo IBR (Disability Cash Grant, active) and the demo DR (mobility, approved).
import { registry } from "@web/core/registry";

const TOUR_UIN = "588982005112";
const TOUR_NAME = "Danilo Lim";

// The value a field shows: its input's (editable) or its text (read-only for this user).
function expectValue(selector, expected) {
    const element = document.querySelector(selector);
    const input = element && element.querySelector("input");
    const value = element && (input ? input.value : element.textContent).trim();
    if (value !== expected) {
        throw new Error(`${selector}: expected "${expected}", the screen shows "${value}"`);
    }
}

registry.category("web_tour.tours").add("spp_dci_demo_case_worker", {
    steps: () => [
        // 1. Open a registrant: Registry > Individuals, search by identifier
        {
            content: "The Individuals list",
            trigger: ".o_list_view .o_data_row",
        },
        {
            content: "Search the UIN",
            trigger: ".o_searchview_input",
            run: `edit ${TOUR_UIN}`,
        },
        {
            content: "... as an identifier",
            trigger: ".o_searchview_autocomplete .o-dropdown-item:contains(Identifier)",
            run: "click",
        },
        {
            content: "One registrant holds it",
            trigger: `.o_list_view .o_data_row:only-child td[name=name]:contains(${TOUR_NAME})`,
            run: "click",
        },
        {
            content: "The registrant's form",
            trigger: ".o_form_view .o_field_widget[name=family_name]",
            run: () => expectValue(".o_form_view .o_field_widget[name=family_name]", "Lim"),
        },
        {
            content: "... with the UIN on the Identifiers tab",
            trigger: `.o_field_widget[name=registry_id_ids] .o_data_row:contains(${TOUR_UIN})`,
        },

        // 2. Check IBR: the registry says where the person is enrolled already
        {
            content: "Check IBR enrolment",
            trigger: ".o_form_view button[name=action_ibr_check_enrolment]",
            run: "click",
        },
        {
            content: "The IBR answered (notification)",
            trigger: ".o_notification:contains(IBR enrolment check)",
        },
        {
            content: "The warning banner names the programme",
            trigger: ".o_form_view .alert-warning:contains(Already enrolled):contains(Disability Cash Grant)",
        },
        {
            content: "Open the IBR Enrolments tab",
            trigger: ".o_notebook .nav-link:contains(IBR Enrolments)",
            run: "click",
        },
        {
            content: "One active enrolment",
            trigger: ".o_field_widget[name=ibr_enrolment_ids] .o_data_row:contains(PWD-CG):contains(Active)",
        },

        // 3. Check disability: one line per impairment, in the vocabulary's words
        {
            content: "Check disability",
            trigger: ".o_form_view button[name=action_dr_check_disability]",
            run: "click",
        },
        {
            content: "The disability registry answered (notification)",
            trigger: ".o_notification:contains(Disability check)",
        },
        {
            content: "Open the Disability tab",
            trigger: ".o_notebook .nav-link:contains(Disability)",
            run: "click",
        },
        {
            content: "The registry records a disability",
            trigger: ".o_notebook .alert-warning:contains(records a disability)",
        },
        {
            content: "Status Approved",
            trigger: ".o_field_widget[name=dr_disability_status]:contains(Approved)",
        },
        {
            content: "The impairment line: mobility, severe, a lot difficulty",
            trigger:
                ".o_field_widget[name=dr_disability_info_ids] .o_data_row" +
                ":contains(Mobility):contains(Severe):contains(A lot difficulty)",
        },

        // 4. Verify with CRVS: the civil registry records this person as we do
        {
            content: "Verify with CRVS",
            trigger: ".o_form_view button[name=action_dci_verify_crvs]",
            run: "click",
        },
        {
            content: "The CRVS agrees, field by field",
            trigger: `.modal .alert-success:contains(records ${TOUR_NAME} as this registry does)`,
        },
        {
            content: "Close the comparison",
            trigger: ".modal .modal-footer button:contains(Close)",
            run: "click",
        },
        {
            content: "Back on the form",
            trigger: "body:not(:has(.modal)) .o_form_view button[name=action_dci_verify_crvs]",
        },

        // 5. Run an import: DCI > Client > Import from CRVS, births of the last 30 days, now
        {
            content: "The Client menu",
            trigger: ".o_main_navbar .o_menu_sections button:contains(Client)",
            run: "click",
        },
        {
            content: "Import from CRVS",
            trigger: ".dropdown-menu .dropdown-item:contains(Import from CRVS)",
            run: "click",
        },
        {
            content: "Births, wait for the result",
            trigger: ".modal .o_field_widget[name=mode] input[data-value=now]",
            run: "click",
        },
        {
            content: "Import",
            trigger: ".modal button[name=action_import]",
            run: "click",
        },
        {
            content: "The run is done",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Done)",
        },
        {
            content: "Two births created (Gabriel, Tala), one completed (Jasmine)",
            trigger: ".o_form_view .o_field_widget[name=created_count]:contains(2)",
            run: () => {
                expectValue(".o_form_view .o_field_widget[name=created_count]", "2");
                expectValue(".o_form_view .o_field_widget[name=updated_count]", "1");
            },
        },
    ],
});
