"""``make demo``: the nightly example DAG end to end in real Airflow, against the embedded Canvas simulator.

What it does, all on this machine:

1. makes a throwaway ``AIRFLOW_HOME`` (SQLite) and runs ``airflow db migrate``;
2. starts the Canvas simulator (``python -m airflow_provider_canvas_progress.testing``) on a free
   loopback port and points ``AIRFLOW_CONN_CANVAS_DEFAULT`` at it;
3. runs ``airflow dags test canvas_nightly_course_batch`` twice: with the default parameters (the
   job completes: ``report`` runs) and with course ids Canvas does not know (the job fails with
   "0 courses processed": ``alert`` runs);
4. runs ``airflow dags test canvas_nightly_sis_import`` three times on folders of CSVs it writes:
   a full export (imported: ``report``), one with a row Canvas refuses (``report_with_warnings``),
   and a truncated one that batch mode would delete too much for (``alert_threshold``);
5. runs ``airflow dags test canvas_nightly_reports``: three account reports at once (mapped,
   deferrable), their files saved under the temporary home and summarised;
6. after each run prints every task's state and the final result, read from the run's XComs.

Airflow's own output goes to log files in the temporary home (their paths are printed; the tail is
shown when something goes wrong). The simulator is stopped whatever happens. The exit status is
non-zero when a task did not end in the expected state.

Usage: ``python scripts/demo.py [--keep]`` (``--keep`` leaves the temporary home for inspection).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "canvas_nightly_course_batch"
SIS_DAG_ID = "canvas_nightly_sis_import"
REPORTS_DAG_ID = "canvas_nightly_reports"
DAG_FILES = [ROOT / "example_dags" / f"{dag_id}.py" for dag_id in (DAG_ID, SIS_DAG_ID, REPORTS_DAG_ID)]
TASKS = {
    DAG_ID: ("start_batch", "wait", "route", "report", "alert", "cleanup"),
    SIS_DAG_ID: (
        "check_folder", "import_sis", "route", "report", "report_with_warnings", "alert_failed", "alert_threshold",
        "alert_aborted",
    ),
    REPORTS_DAG_ID: ("run_report", "summary"),
}  # fmt: skip
#: The task whose return value is the job's final state (the reports' summary), per DAG.
RESULT_TASK = {DAG_ID: "wait", SIS_DAG_ID: "import_sis", REPORTS_DAG_ID: "summary"}
#: The nightly SIS exports the SIS scenarios import (written into the temporary home).
SIS_EXPORTS = {
    "full": {
        "terms.csv": "term_id,name,status\nFA24,Fall 2024,active\n",
        "courses.csv": "course_id,short_name,long_name,term_id,status\n"
        + "".join(f"C{i},C{i},Course {i},FA24,active\n" for i in range(1, 5)),
        "users.csv": "user_id,login_id,first_name,last_name,status\nU1,ada@example.edu,Ada,Lovelace,active\n",
        "enrollments.csv": "course_id,user_id,role,status\nC1,U1,student,active\n",
    },
    "refused_row": {
        "users.csv": "user_id,login_id,first_name,last_name,status\nU1,ada@example.edu,Ada,Lovelace,active\n"
        "U2,,Bob,NoLogin,active\n",
        "courses.csv": "course_id,short_name,long_name,term_id,status\n"
        + "".join(f"C{i},C{i},Course {i},FA24,active\n" for i in range(1, 5)),
        "enrollments.csv": "course_id,user_id,role,status\nC1,U1,student,active\n",
    },
    "truncated": {"courses.csv": "course_id,short_name,long_name,term_id,status\nC1,C1,Course 1,FA24,active\n"},
}
#: How long a simulated job stays queued, then runs (seconds).
QUEUED_SECONDS, JOB_SECONDS = 0.5, 2.0
SIMULATOR_START_TIMEOUT = 30.0
AIRFLOW_COMMAND_TIMEOUT = 300.0


@dataclass(frozen=True)
class Scenario:
    """One ``airflow dags test`` run and the task states it must end with.

    ``sis_export`` names the folder of :data:`SIS_EXPORTS` the run imports (its path goes into the conf).
    """

    title: str
    conf: dict[str, Any] | None
    expected: dict[str, str]
    dag_id: str = DAG_ID
    sis_export: str | None = None


def _sis_expected(branch: str) -> dict[str, str]:
    states = {task: "skipped" for task in TASKS[SIS_DAG_ID]}
    states.update({"check_folder": "success", "import_sis": "success", "route": "success", branch: "success"})
    return states


SCENARIOS = (
    Scenario(
        "1. default parameters: offer courses 1, 2, 3 -> the job completes",
        None,
        {
            "start_batch": "success",
            "wait": "success",
            "route": "success",
            "report": "success",
            "alert": "skipped",
            "cleanup": "skipped",
        },
    ),
    Scenario(
        "2. unknown courses 9001, 9002 -> Canvas processes none, the job fails",
        {"course_ids": [9001, 9002]},
        {
            "start_batch": "success",
            "wait": "success",
            "route": "success",
            "report": "skipped",
            "alert": "success",
            "cleanup": "skipped",
        },
    ),
    Scenario(
        "3. SIS import of a full export (batch mode, term FA24) -> imported",
        None,
        _sis_expected("report"),
        SIS_DAG_ID,
        "full",
    ),
    Scenario(
        "4. SIS import of an export with a user lacking login_id -> imported_with_messages",
        None,
        _sis_expected("report_with_warnings"),
        SIS_DAG_ID,
        "refused_row",
    ),
    Scenario(
        "5. SIS import of a truncated export -> change_threshold aborts it, nothing deleted",
        None,
        _sis_expected("alert_threshold"),
        SIS_DAG_ID,
        "truncated",
    ),
    Scenario(
        "6. three account reports at once (provisioning, grade export, last access) -> saved and summarised",
        None,
        {"run_report": "success", "summary": "success"},
        REPORTS_DAG_ID,
    ),
)


class DemoError(Exception):
    """A step of the demo failed; the message says which and where its log is."""


def airflow_env(home: Path) -> dict[str, str]:
    """The environment for every Airflow command (and this process): nothing of the user's own set-up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "AIRFLOW__", "CANVAS_EXAMPLE_"))}
    dags = home / "dags"
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            # Loopback only: no proxy may see the simulator's token.
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            # The example reads these when parsed: poll fast, give up after two minutes.
            "CANVAS_EXAMPLE_POLL_SECONDS": "0.5",
            "CANVAS_EXAMPLE_TIMEOUT_SECONDS": "120",
            "CANVAS_EXAMPLE_REPORTS_DIR": str(home / "reports"),
        }
    )
    return env


def run_logged(command: list[str], env: dict[str, str], log: Path, what: str) -> None:
    """Run an Airflow command with its output in ``log``; on failure show the log's tail."""
    with log.open("w") as out:
        try:
            done = subprocess.run(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=AIRFLOW_COMMAND_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            raise DemoError(f"{what} took over {AIRFLOW_COMMAND_TIMEOUT:.0f} s; see {log}\n{tail(log)}") from None
    if done.returncode != 0:
        raise DemoError(f"{what} exited with status {done.returncode}; see {log}\n{tail(log)}")


def write_export(home: Path, name: str) -> Path:
    """Write one of :data:`SIS_EXPORTS` as a folder of CSV files and return the folder."""
    folder = home / "sis" / name
    folder.mkdir(parents=True, exist_ok=True)
    for file, text in SIS_EXPORTS[name].items():
        (folder / file).write_text(text)
    return folder


def tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(errors="replace").splitlines()
    return "\n".join("    " + line for line in text[-lines:])


class Simulator:
    """The Canvas simulator as a child process on a free loopback port, stopped by :meth:`stop`."""

    def __init__(self, home: Path) -> None:
        self.token = secrets.token_urlsafe(24)
        self.ready_file = home / "simulator.url"
        self.log = home / "simulator.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def start(self) -> str:
        command = [
            sys.executable,
            "-m",
            "airflow_provider_canvas_progress.testing",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--token",
            self.token,
            "--queued-seconds",
            str(QUEUED_SECONDS),
            "--job-seconds",
            str(JOB_SECONDS),
            "--ready-file",
            str(self.ready_file),
        ]
        with self.log.open("w") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + SIMULATOR_START_TIMEOUT
        while not self.ready_file.exists():
            if self.process.poll() is not None:
                raise DemoError(f"the Canvas simulator exited with status {self.process.returncode}\n{tail(self.log)}")
            if time.monotonic() > deadline:
                waited = f"{SIMULATOR_START_TIMEOUT:.0f} s"
                raise DemoError(f"the Canvas simulator did not start in {waited}\n{tail(self.log)}")
            time.sleep(0.05)
        self.base_url = self.ready_file.read_text().strip()
        return self.base_url

    def connection(self) -> str:
        return json.dumps({"conn_type": "canvas", "host": self.base_url, "password": self.token})

    def add_sis_term(self, name: str, sis_term_id: str) -> None:
        """Give the root account the term the SIS example's batch mode names (control API, no token)."""
        body = json.dumps({"name": name, "sis_term_id": sis_term_id}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/__sim__/sis/terms", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def last_run(dag_id: str) -> tuple[str, str, dict[str, str], dict[str, Any] | None]:
    """The newest run of ``dag_id``: run id, run state, task states and the job's final state."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.query(DagRun).filter(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).first()
        if run is None:
            raise DemoError(f"no run of {dag_id} was recorded")
        tis = session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run.run_id).all()
        # A mapped task has one instance per map index: one state when they agree, else each of them.
        seen: dict[str, set[str]] = {}
        for ti in tis:
            seen.setdefault(ti.task_id, set()).add(_text(ti.state))
        states = {task_id: "/".join(sorted(found)) for task_id, found in seen.items()}
        progress = _xcom(session, dag_id, run.run_id, RESULT_TASK[dag_id])
        return run.run_id, _text(run.state), states, progress


def _text(state: Any) -> str:
    return str(getattr(state, "value", state))


def _xcom(session: Any, dag_id: str, run_id: str, task_id: str) -> Any:
    try:
        from airflow.models.xcom import XComModel  # Airflow 3
    except ImportError:
        from airflow.models.xcom import XCom  # Airflow 2: deserialised on load

        row = session.query(XCom).filter_by(dag_id=dag_id, run_id=run_id, task_id=task_id, key="return_value").first()
        return None if row is None else row.value
    row = session.query(XComModel).filter_by(dag_id=dag_id, run_id=run_id, task_id=task_id, key="return_value").first()
    return None if row is None else XComModel.deserialize_value(row)


def show(scenario: Scenario, run_id: str, run_state: str, states: dict[str, str], progress: Any) -> bool:
    """Print the task table and the final state; return whether every task is as expected."""
    print(f"   run {run_id}: {run_state}")
    print(f"   {'task':<22} {'state':<16} expected")
    ok = True
    for task_id in TASKS[scenario.dag_id]:
        state, expected = states.get(task_id, "(none)"), scenario.expected[task_id]
        mark = "" if state == expected else "   <-- unexpected"
        ok = ok and state == expected
        print(f"   {task_id:<22} {state:<16} {expected}{mark}")
    if scenario.dag_id == REPORTS_DAG_ID and isinstance(progress, dict):
        print("   saved reports (summary's XCom):")
        for report, saved in sorted(progress.items()):
            print(f"     {report:<22} {saved.get('path')}  sha256 {str(saved.get('sha256'))[:12]}…")
    elif scenario.dag_id == SIS_DAG_ID and isinstance(progress, dict):
        print("   final SIS import (import_sis's XCom):")
        for key in ("id", "workflow_state", "outcome", "counts", "warnings", "threshold_abort"):
            value = progress.get(key)
            if key == "counts" and isinstance(value, dict):
                value = {k: v for k, v in value.items() if v}
            print(f"     {key:<15} {value}")
    elif isinstance(progress, dict):
        print("   final Progress (wait's XCom):")
        for key in ("id", "tag", "workflow_state", "outcome", "completion", "url"):
            print(f"     {key:<15} {progress.get(key)}")
        for number, line in enumerate((progress.get("message") or "").splitlines() or [""]):
            print(f"     {'message' if number == 0 else '':<15} {line}")
    else:
        print("   final Progress: (no XCom from wait)")
        ok = False
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--keep", action="store_true", help="keep the temporary AIRFLOW_HOME")
    args = parser.parse_args(argv)

    started = time.monotonic()
    home = Path(tempfile.mkdtemp(prefix="canvas-demo-"))
    (home / "dags").mkdir()
    (home / "logs").mkdir()
    # Only these examples in the dags folder: `dags test` parses the whole folder.
    for dag_file in DAG_FILES:
        shutil.copy(dag_file, home / "dags" / dag_file.name)
    env = airflow_env(home)
    airflow = [sys.executable, "-m", "airflow"]
    simulator = Simulator(home)
    ok = True
    print(f"Airflow home: {home}")
    try:
        print("Preparing the Airflow database (airflow db migrate) ...", flush=True)
        run_logged([*airflow, "db", "migrate"], env, home / "logs" / "db-migrate.log", "airflow db migrate")

        base_url = simulator.start()
        print(f"Canvas simulator listening on {base_url} (log: {simulator.log})")
        env["AIRFLOW_CONN_CANVAS_DEFAULT"] = simulator.connection()
        # This process reads the runs back through Airflow's own models, from the same database,
        # so it imports Airflow only now, with the same environment as the commands.
        os.environ.clear()
        os.environ.update(env)

        simulator.add_sis_term("Fall 2024", "FA24")
        for number, scenario in enumerate(SCENARIOS, start=1):
            print(f"\n{scenario.title}")
            conf_values = dict(scenario.conf or {})
            if scenario.sis_export is not None:
                conf_values["sis_directory"] = str(write_export(home, scenario.sis_export))
            conf = ["--conf", json.dumps(conf_values)] if conf_values else []
            log = home / "logs" / f"dags-test-{number}.log"
            dag_id = scenario.dag_id
            print(f"   $ {shlex.join(['airflow', 'dags', 'test', dag_id, *conf])}", flush=True)
            run_logged([*airflow, "dags", "test", dag_id, *conf], env, log, f"airflow dags test ({scenario.title})")
            run_id, run_state, states, progress = last_run(dag_id)
            if not show(scenario, run_id, run_state, states, progress):
                ok = False
                print(f"   Unexpected task states. The end of Airflow's output ({log}):\n{tail(log)}")
            if args.keep:
                print(f"   Airflow's output: {log}")
    except DemoError as error:
        print(f"\nDemo failed: {error}", file=sys.stderr)
        ok = False
    finally:
        simulator.stop()
        if not args.keep and ok:
            shutil.rmtree(home, ignore_errors=True)
    took = time.monotonic() - started
    if ok:
        print(
            f"\nDemo passed in {took:.0f} s: the completed job ran 'report', the failed one 'alert'; the SIS "
            "imports ran 'report', 'report_with_warnings' and 'alert_threshold'; three account reports were "
            "saved and summarised."
        )
        if not args.keep:
            print("(temporary Airflow home removed; run with --keep to keep its logs)")
        return 0
    print(f"\nDemo FAILED after {took:.0f} s; logs kept in {home}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
