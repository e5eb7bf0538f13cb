"""The usercore test kit: strategies, test doubles, contract suites and the state machine.

Adapter authors prove their adapter behaves like ours by subclassing
:class:`UserRepositoryContract`, :class:`SessionRepositoryContract`,
:class:`ThrottleStoreContract`, :class:`EventLogContract`,
:class:`UserLifecycleMachine` and ``event_machine.OutboxDeliveryMachine``
once each.
Needs the ``testing`` extra (hypothesis, pytest, pytest-asyncio).
"""

from usercore.testing.contract import (
    EventLogContract,
    RecordFactory,
    Repositories,
    SessionRepositoryContract,
    ThrottleStoreContract,
    UserRepositoryContract,
)
from usercore.testing.doubles import (
    FastTestHasher,
    FixedStrengthEstimator,
    ManualClock,
    SequentialIds,
)

__all__ = [
    "EventLogContract",
    "FastTestHasher",
    "FixedStrengthEstimator",
    "ManualClock",
    "RecordFactory",
    "Repositories",
    "SequentialIds",
    "SessionRepositoryContract",
    "ThrottleStoreContract",
    "UserRepositoryContract",
]
