"""The start-up check of the platform's topics: every difference named, with its fix."""

from __future__ import annotations

from aftercare.topics import TopicSpec, topic_problems


def described(partitions: int, replicas: int) -> list[dict[str, object]]:
    return [{"partition": n, "replicas": list(range(replicas))} for n in range(partitions)]


WANTED = [
    TopicSpec("ticket.events.v1", 3, 3),
    TopicSpec("ticket.events.v1.dlq", 1, 3, setting=None),
]


def test_topics_as_declared_raise_nothing() -> None:
    topics = {"ticket.events.v1": described(3, 3), "ticket.events.v1.dlq": described(1, 3)}
    assert topic_problems(WANTED, topics) == []


def test_a_missing_topic_is_named_with_what_to_create() -> None:
    problems = topic_problems(WANTED, {"ticket.events.v1": described(3, 3)})
    assert len(problems) == 1
    assert "ticket.events.v1.dlq does not exist" in problems[0]
    assert "1 partition(s) and 3 replica(s)" in problems[0]
    assert "AFTERCARE_KAFKA_CREATE_TOPICS" in problems[0]


def test_another_partition_count_names_the_setting_and_the_count_found() -> None:
    topics = {"ticket.events.v1": described(12, 3), "ticket.events.v1.dlq": described(1, 3)}
    (problem,) = topic_problems(WANTED, topics)
    assert "has 12 partition(s) but AFTERCARE_TOPIC_PARTITIONS says 3" in problem
    assert "AFTERCARE_TOPIC_PARTITIONS=12" in problem


def test_a_dead_letter_topic_may_have_any_number_of_partitions() -> None:
    topics = {"ticket.events.v1": described(3, 3), "ticket.events.v1.dlq": described(6, 3)}
    assert topic_problems(WANTED, topics) == []


def test_too_few_replicas_is_a_problem_on_every_topic_naming_the_partitions() -> None:
    thin = described(3, 3)
    thin[1]["replicas"] = [0]
    topics = {"ticket.events.v1": thin, "ticket.events.v1.dlq": described(1, 2)}
    problems = topic_problems(WANTED, topics)
    assert len(problems) == 2
    assert "ticket.events.v1 has fewer than 3 replicas on partition(s) 1 " in problems[0]
    assert "ticket.events.v1.dlq has fewer than 3 replicas on partition(s) 0 " in problems[1]
