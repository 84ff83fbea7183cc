"""What conduct announces, for the layers above it to react to.

Conduct knows nothing of obligations, signatures or certificates; when a board
adopts a version or someone takes up a role, it sends one of these inside the
service's transaction. Receivers (``acknowledgements.receivers``, connected in
that app's ``ready()``) run in the same transaction, so an error in one undoes
the adoption or the role too: nothing is left half-done.
"""

from django.dispatch import Signal

# Sent with ``adoption`` (a saved Adoption) and ``recorded_at``.
adoption_recorded = Signal()

# Sent with ``role`` (a saved Role).
role_started = Signal()

# Sent with ``roles`` (saved Roles) when several roles start at once (``conduct.people.roles_add_batch``):
# receivers open what they owe in one pass, as ``role_started`` does for one.
roles_started = Signal()

# Sent with ``roles`` (each Role's ``ends_on`` and ``end_reason`` saved) whenever roles end, one or many:
# a leaver, a mover's old role, a governor stepping down, a roster sync. Receivers close what the people
# owed through them.
roles_ended = Signal()
