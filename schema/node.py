"""The Relay `Node` interface: every object the API can fetch again by its id alone.

Ids stay the prefixed ids REST shows (`act_...`, `wf_...`): they are unique across the whole API
already, so no opaque global id is layered on top, and an id read from REST works in `node(id:)`.
"""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with an id that `node(id:)` fetches again (the Relay Node "
                                  "interface). Ids are the prefixed ids REST shows: `act_...`, `apr_...`.")
class Node:
    id: strawberry.ID = strawberry.field(description="The object's id, unique across the API and the same as in REST.")
