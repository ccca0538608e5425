from . import importer, life_events, mapping, models, wizards
