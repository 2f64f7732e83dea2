"""Every mapped table, on one metadata: what the migrations are written against.

server/db.py holds the engine, Base and sessions, and imports no model; each models module
imports it. Whatever needs the complete set of tables (Alembic's env.py, a comparison with
the migrations, create_all) imports `metadata` from here.
"""

from __future__ import annotations

import server.accounts.models
import server.billing.models
import server.claims.details_models
import server.claims.models
import server.claims.portal_models
import server.claims.preauth_models
import server.claims.uxiang_models
import server.limits.models
import server.messages.models
import server.notify.outbox
import server.partners.models
import server.policies.models
import server.service_supplements.models
import server.sessions  # noqa: F401
from server.db import Base

metadata = Base.metadata
