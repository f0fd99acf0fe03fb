from alembic import context

from nova_volmig.db import models
from volmig_common import db

db.run_migrations(context.config, models.Base.metadata)
