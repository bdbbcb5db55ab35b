"""An execution is retried at most once: a unique index on `executions.retry_of`, so that of two
retries of one execution, concurrent or not and on any replica, the second insert fails and is
answered 409 CONFLICT naming the first (resolvers/workflows/executions.py `retry`). It holds
executions that retry one only (NULL never conflicted: an execution that retries nothing is most of
them), in PostgreSQL and SQLite alike; the model declares it as `unique=True`.

Before it, a double submit retried an execution as many times as it was asked, so a database may
already hold several retries of one execution, and the index could not be built over them. The
first of them (by creation, then id) stays the execution's retry; the later ones stay as they are
(their steps, events and outputs) but no longer name what they retried: `retry_of` becomes NULL.
Their audit entries (`execution.retried`, with `retryOf`) still say which execution each retried.
The reverse drops the index and does not put those links back."""

from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class DeclareUnique(ops.AlterField):  # type: ignore[misc]
    """The model's `unique=True`, for the migration state only. The database's side is the partial
    index below, not the full constraint AlterField would add (on SQLite by copying the table)."""

    async def database_forward(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def database_backward(self, *args: Any, **kwargs: Any) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0023_mcp_call_claims')]

    initial = False

    operations = [
        ops.RunSQL(
            "UPDATE executions SET retry_of = NULL WHERE retry_of IS NOT NULL AND EXISTS ("
            "SELECT 1 FROM executions earlier WHERE earlier.retry_of = executions.retry_of"
            " AND (earlier.created_at < executions.created_at"
            " OR (earlier.created_at = executions.created_at AND earlier.id < executions.id)))",
            reverse_sql=ops.RunSQL.noop,
        ),
        ops.RunSQL(
            "CREATE UNIQUE INDEX executions_retry_of ON executions (retry_of) WHERE retry_of IS NOT NULL",
            reverse_sql="DROP INDEX executions_retry_of",
        ),
        DeclareUnique(
            model_name='Execution',
            name='retry_of',
            field=fields.CharField(null=True, unique=True, max_length=32),
        ),
    ]
