from . import mapping, models
