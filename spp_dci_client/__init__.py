from . import client, models, receiver_log
