from pathlib import Path

from dbt_runner.dbt_invoke import dbt_args


def test_args_put_dbt_state_outside_the_project_and_pass_selection() -> None:
    args = dbt_args(
        "build",
        project_dir=Path("/p"),
        profiles_dir=Path("/p"),
        target="prod",
        target_path=Path("/w/target"),
        log_path=Path("/w/logs"),
        exclude=("assert_timestamp_macros",),
        exclude_resource_types=("unit_test",),
        vars={"b": 1, "a": "x"},
        threads=3,
    )
    assert args[:11] == [
        "build",
        "--project-dir",
        "/p",
        "--profiles-dir",
        "/p",
        "--target",
        "prod",
        "--target-path",
        "/w/target",
        "--log-path",
        "/w/logs",
    ]
    assert args[args.index("--exclude") + 1] == "assert_timestamp_macros"
    assert args[args.index("--exclude-resource-type") + 1] == "unit_test"
    assert args[args.index("--vars") + 1] == '{"a": "x", "b": 1}'
    assert args[-2:] == ["--threads", "3"]


def test_no_selection_flags_unless_asked() -> None:
    args = dbt_args(
        "parse",
        project_dir=Path("/p"),
        profiles_dir=Path("/p"),
        target="dev",
        target_path=Path("/t"),
        log_path=Path("/l"),
    )
    assert not {"--exclude", "--exclude-resource-type", "--select", "--vars", "--threads"} & set(
        args
    )
