"""GraphQL over WebSocket, multiplexed: one bus subscription per process, one execution per event.

documents.py parses and validates an operation once; hub.py routes each committed event by
organization to the groups of subscribers sharing a document and renders it once per group;
protocol.py speaks graphql-transport-ws and the legacy graphql-ws to each client.
"""
