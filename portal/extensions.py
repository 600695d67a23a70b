"""Extensions, created unbound and initialised in :func:`portal.create_app`."""
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate

db = SQLA()
migrate = Migrate()
