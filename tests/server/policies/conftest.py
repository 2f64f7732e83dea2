from tests.db import (  # noqa: F401  (fixtures)
    api,
    clock,
    database,
    db_connection,
    db_engine,
    db_factory,
    db_session,
    demo,
    member_app,
    member_settings,
    members,
)
