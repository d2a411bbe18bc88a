"""The fault bench's measure of what the load puts on each consumer group's topics: the lag a group may
have after a fault and count as caught up (bench/fault_desk.py `GroupLoad`)."""

from bench.fault_desk import GroupLoad


def test_what_the_load_puts_on_a_group_is_pooled_over_every_stretch_before_a_fault() -> None:
    load = GroupLoad()
    load.add((10.0, {"intake": (0, 100)}), (11.0, {"intake": (90, 130)}))  # 30 messages in a second
    load.add((20.0, {"intake": (130, 200)}), (23.0, {"intake": (200, 290)}))  # 90 in three

    assert load.measured() == 4.0
    assert load.two_seconds() == {"intake": 60.0}  # 120 messages in 4 s


def test_a_stretch_kafka_did_not_answer_in_or_a_group_not_there_at_its_start_measures_nothing() -> None:
    load = GroupLoad()
    load.add(None, (11.0, {"intake": (0, 130)}))
    load.add((20.0, {"intake": (130, 200)}), None)
    load.add((30.0, {"intake": (0, 200)}), (31.0, {"intake": (0, 240), "sla": (0, 10)}))

    assert load.two_seconds() == {"intake": 80.0}
