from . import importer, mapping, models, wizards
