"""A worker whose device cannot be replaced retires; its scenarios run on the other workers.

Theory of operation
-------------------
pytest-xdist re-queues a worker's unstarted items only when the worker process dies
(`remove_node`), and then reports the first of them as crashed and starts a replacement worker,
which would lease the same dead device. So a retiring worker does not die. Instead:

- the worker marks the report of the scenario that found its device unreplaceable
  (`DeviceUnreplaceable`) with `harness.retired`, and from then on skips every item it is sent
  without running or reporting it (xdist still sees each one complete);
- the controller, on that report, puts every item it had queued on the worker (the reporting one
  too: it was never judged) back at the front of the queue with the scheduler's own
  `mark_test_pending` (the hook pytest_handlecrashitem's API), reports the failed attempt as a
  rerun (as pytest-rerunfailures does), shuts the worker down and prints one line naming the device
  and why. The worker then ends cleanly with an empty queue: no crash report, no replacement.

Only the `load` and `worksteal` schedulers can take items back (`load` is the harness's kind-affine
AffinityScheduling, harness.scheduling, which puts them back in its pool); with the others
(loadscope, loadfile, loadgroup) nothing is skipped and the worker's scenarios error at once as before.
"""

from __future__ import annotations

from typing import Any

RETIRED = "harness.retired"  # user property of the report that retires its worker: the reason
HANDS_BACK = ("load", "worksteal")  # --dist modes whose scheduler implements mark_test_pending
HANDS_BACK_KEY = "harness_hands_back"  # workerinput: the controller's can_hand_back()


def can_hand_back(config: Any) -> bool:
    """Whether the run's scheduler takes items back (a worker's own `dist` is "no": the controller's
    answer travels in workerinput)."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return bool(workerinput.get(HANDS_BACK_KEY))
    return getattr(config.option, "dist", "no") in HANDS_BACK


def hand_back(config: Any, report: Any, reason: str) -> str | None:
    """On the controller: the retiring worker's queue back to the others; the line to print."""
    dsession = config.pluginmanager.getplugin("dsession")
    node = getattr(report, "node", None)
    sched = getattr(dsession, "sched", None)
    if node is None or sched is None or node.shutting_down or node not in sched.node2pending:
        return None  # handed back already (a later report of the same item)
    queued = list(sched.node2pending[node])  # they stay there: the worker "completes" each one
    node.shutdown()  # no more items for it; it ends after skipping its queue
    if not any(n is not node and not n.shutting_down for n in sched.nodes):
        dsession.shouldstop = f"worker {node.gateway.id} retired ({reason}) and no other worker is left"
        return dsession.shouldstop
    for index in reversed(queued):  # mark_test_pending puts each at the front: keep their order
        sched.mark_test_pending(sched.collection[index])
    report.outcome = "rerun"  # this attempt was no verdict; the scenario runs again elsewhere
    return (f"worker {node.gateway.id} retired: {reason}; its {len(queued)} queued scenario(s) "
            f"({report.nodeid} included) go to the other workers")
