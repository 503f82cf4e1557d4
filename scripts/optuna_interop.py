#!/usr/bin/env python3
"""Checks that Optuna and optuna-dashboard read the studies Lathe writes in Optuna's RDB schema,
and makes studies with Optuna that `lathe search` can continue. Every subcommand prints one JSON
object on stdout; a failed check exits 1 with a last line on stderr that says what failed.

  optuna_interop.py read --storage URL --study NAME
  optuna_interop.py create --storage URL --study NAME --function branin|hartmann6|zdt1 --trials N [--seed S]
  optuna_interop.py dashboard --storage URL --study NAME --out DIR [--chromium PATH] [--expect-trials N]

Run it with the venv scripts/optuna-check.sh makes (optuna 5.1.0, optuna-dashboard 0.21.0,
psycopg2-binary, pandas); docs/optuna-interop.md says what each subcommand checks.
"""

import argparse
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import warnings


class CheckFailed(Exception):
    """A check that failed; main prints its message as the one line on stderr."""


def sqlalchemy_url(url):
    # Lathe (and psql) write postgresql://; SQLAlchemy picks its driver from the scheme, and
    # psycopg2 is the one the venv has.
    if url.startswith("postgresql://"):
        return "postgresql+psycopg2://" + url[len("postgresql://"):]
    if url.startswith("postgres://"):
        return "postgresql+psycopg2://" + url[len("postgres://"):]
    return url


def sqlite_path(url):
    """The file of a sqlite:/// URL, else None."""
    prefix = "sqlite:///"
    return url[len(prefix):] if url.startswith(prefix) else None


def finite_or_string(value):
    # Optuna stores ±inf (and nan intermediate values); strict JSON has no spelling for them,
    # so they travel as the strings "inf", "-inf", "nan", as optuna-dashboard's API writes them.
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def check_schema(url):
    """Reads the tables without Optuna's storage class, because RDBStorage creates missing tables
    and version rows as it opens a database, which would hide a file Lathe wrote incompletely."""
    import sqlalchemy
    from optuna.storages._rdb import models

    path = sqlite_path(url)
    if path is not None and not os.path.isfile(path):
        raise CheckFailed(f"{path}: no such SQLite file (from --storage {url})")
    engine = sqlalchemy.create_engine(sqlalchemy_url(url))
    try:
        inspector = sqlalchemy.inspect(engine)
        tables = set(inspector.get_table_names())
        missing_tables = sorted(set(models.BaseModel.metadata.tables) - tables)
        missing_columns = {}
        for name, table in models.BaseModel.metadata.tables.items():
            if name not in tables:
                continue
            have = {column["name"] for column in inspector.get_columns(name)}
            lacking = sorted({column.name for column in table.columns} - have)
            if lacking:
                missing_columns[name] = lacking
        if missing_tables or missing_columns:
            raise CheckFailed(
                f"{url}: Optuna's schema expects tables {missing_tables} and columns "
                f"{missing_columns} that are missing"
            )
        with engine.connect() as connection:
            alembic = [row[0] for row in connection.execute(sqlalchemy.text("SELECT version_num FROM alembic_version"))]
            version_info = [
                dict(row._mapping)
                for row in connection.execute(
                    sqlalchemy.text("SELECT version_info_id, schema_version, library_version FROM version_info")
                )
            ]
    finally:
        engine.dispose()
    if len(alembic) != 1:
        raise CheckFailed(f"{url}: alembic_version has {len(alembic)} rows, expected exactly 1")
    if len(version_info) != 1 or version_info[0]["schema_version"] != models.SCHEMA_VERSION:
        raise CheckFailed(
            f"{url}: version_info is {version_info}, expected one row with schema_version {models.SCHEMA_VERSION}"
        )
    return {"alembic_version": alembic[0], "version_info": version_info[0]}


def open_storage(url):
    import optuna

    # skip_table_creation: the schema check above already found every table; the default
    # compatibility check stays on, so an alembic revision other than Optuna's head fails here.
    try:
        return optuna.storages.RDBStorage(sqlalchemy_url(url), skip_table_creation=True)
    except RuntimeError as error:
        lenient = optuna.storages.RDBStorage(
            sqlalchemy_url(url), skip_compatibility_check=True, skip_table_creation=True
        )
        raise CheckFailed(
            f"{url}: alembic_version is {lenient.get_current_version()}, expected Optuna "
            f"{optuna.__version__}'s head revision {lenient.get_head_version()}"
        ) from error


def describe_trial(trial):
    from optuna.distributions import distribution_to_json

    return {
        "number": trial.number,
        "state": trial.state.name,
        "params": {name: finite_or_string(value) for name, value in trial.params.items()},
        # Parsed, so the report holds objects: {"name": "FloatDistribution", "attributes": {...}}.
        "distributions": {name: json.loads(distribution_to_json(d)) for name, d in trial.distributions.items()},
        "values": None if trial.values is None else [finite_or_string(v) for v in trial.values],
        "intermediate_values": {str(step): finite_or_string(v) for step, v in trial.intermediate_values.items()},
        "user_attrs": trial.user_attrs,
        "system_attrs": trial.system_attrs,
        "datetime_start": trial.datetime_start.isoformat() if trial.datetime_start else None,
        "datetime_complete": trial.datetime_complete.isoformat() if trial.datetime_complete else None,
    }


def describe_study(study, storage, url):
    """The report `read` and `create` print; computing it goes through the queries Optuna's own
    tools make (best trials, the trials dataframe, the study summaries), so a schema they cannot
    read raises here."""
    import optuna

    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(study.directions) == 1:
        best = [study.best_trial.number] if complete else []
    else:
        best = sorted(t.number for t in study.best_trials)
    frame = study.trials_dataframe()
    summaries = [s for s in optuna.get_all_study_summaries(storage) if s.study_name == study.study_name]
    if len(summaries) != 1:
        raise CheckFailed(f"{url}: {len(summaries)} study summaries named {study.study_name}, expected 1")
    if summaries[0].n_trials != len(trials):
        raise CheckFailed(
            f"{url}: the study summary counts {summaries[0].n_trials} trials, load_study {len(trials)}"
        )
    return {
        "study": study.study_name,
        "directions": [d.name for d in study.directions],
        "metric_names": study.metric_names,
        "user_attrs": study.user_attrs,
        # Study.system_attrs is gone in Optuna 5; the storage still answers (metric names live here).
        "system_attrs": storage.get_study_system_attrs(study._study_id),
        "best_trials": best,
        "dataframe_rows": len(frame),
        "trials": [describe_trial(t) for t in trials],
    }


def command_read(args):
    import optuna

    schema = check_schema(args.storage)
    storage = open_storage(args.storage)
    try:
        study = optuna.load_study(study_name=args.study, storage=storage)
    except KeyError as error:
        raise CheckFailed(f"{args.storage}: no study named {args.study} ({error})") from error
    report = describe_study(study, storage, args.storage)
    report["schema"] = schema
    return report


# The test functions on [0,1]^d, as Lathe's search benchmarks define them.

def branin(u):
    x, y = -5 + 15 * u[0], 15 * u[1]
    a, b, c = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return a * (y - b * x * x + c * x - r) ** 2 + s * (1 - t) * math.cos(x) + s


HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]
HARTMANN_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
HARTMANN_P = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]


def hartmann6(u):
    total = 0.0
    for alpha, a, p in zip(HARTMANN_ALPHA, HARTMANN_A, HARTMANN_P):
        total += alpha * math.exp(-sum(aj * (xj - pj) ** 2 for aj, xj, pj in zip(a, u, p)))
    return -total


def zdt1(u):
    f1 = u[0]
    g = 1 + 9 * sum(u[1:]) / (len(u) - 1)
    return f1, g * (1 - math.sqrt(f1 / g))


# name: (dimension, objective, metric names)
FUNCTIONS = {
    "branin": (2, branin, ["value"]),
    "hartmann6": (6, hartmann6, ["value"]),
    "zdt1": (6, zdt1, ["f1", "f2"]),
}


def command_create(args):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dimension, function, metric_names = FUNCTIONS[args.function]
    storage = optuna.storages.RDBStorage(sqlalchemy_url(args.storage))
    try:
        study = optuna.create_study(
            study_name=args.study,
            storage=storage,
            directions=["minimize"] * len(metric_names),
            sampler=optuna.samplers.TPESampler(seed=args.seed),
        )
    except optuna.exceptions.DuplicatedStudyError as error:
        raise CheckFailed(f"{args.storage}: a study named {args.study} already exists") from error
    study.set_metric_names(metric_names)

    def objective(trial):
        return function([trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(dimension)])

    study.optimize(objective, n_trials=args.trials)
    report = describe_study(study, storage, args.storage)
    report["schema"] = check_schema(args.storage)
    return report


def free_port():
    # Bound and released at once; the dashboard takes it a moment later.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url, timeout=10):
    """The body of a GET and the URL it ended at (after redirects)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read(), response.geturl()


def find_chromium(explicit):
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise CheckFailed(f"--chromium {explicit}: not an executable file")
        return explicit
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome", "headless_shell"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(chromium, url, png):
    """Headless Chromium's picture of `url`. The dashboard is a React page that fetches the study
    after it loads; the virtual-time budget lets those requests and the plots finish first."""
    with tempfile.TemporaryDirectory(prefix="lathe-chromium-") as profile:
        command = [
            chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1400,1000",
            "--virtual-time-budget=8000", f"--screenshot={png}", url,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0 or not os.path.isfile(png):
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise CheckFailed(f"{chromium}: no screenshot at {png} (exit {result.returncode}): {' | '.join(tail)}")


def command_dashboard(args):
    import optuna

    os.makedirs(args.out, exist_ok=True)
    # What Optuna itself sees, to hold the dashboard's answer against.
    check_schema(args.storage)
    study = optuna.load_study(study_name=args.study, storage=open_storage(args.storage))
    expected = len(study.get_trials(deepcopy=False)) if args.expect_trials is None else args.expect_trials

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = os.path.join(args.out, "dashboard.log")
    log = open(log_path, "w")
    # The console script's entry point, run by this interpreter so it is the venv's dashboard.
    server = subprocess.Popen(
        [sys.executable, "-c", "from optuna_dashboard._cli import main; main()",
         sqlalchemy_url(args.storage), "--host", "127.0.0.1", "--port", str(port), "--server", "wsgiref"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise CheckFailed(f"optuna-dashboard exited with {server.returncode} before answering; see {log_path}")
            try:
                get(base + "/api/meta", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    raise CheckFailed(f"optuna-dashboard did not answer on {base} within 60 s; see {log_path}")
                time.sleep(0.3)

        body, _ = get(base + "/api/studies")
        studies = json.loads(body)
        with open(os.path.join(args.out, "api-studies.json"), "wb") as f:
            f.write(body)
        listed = [s for s in studies.get("study_summaries", []) if s.get("study_name") == args.study]
        if len(listed) != 1:
            names = [s.get("study_name") for s in studies.get("study_summaries", [])]
            raise CheckFailed(f"GET /api/studies: expected study {args.study} once in study_summaries, found {names}")
        study_id = listed[0]["study_id"]

        body, _ = get(f"{base}/api/studies/{study_id}?after=0")
        detail = json.loads(body)
        with open(os.path.join(args.out, f"api-study-{study_id}.json"), "wb") as f:
            f.write(body)
        api_trials = len(detail.get("trials", []))
        if api_trials != expected:
            raise CheckFailed(f"GET /api/studies/{study_id}: {api_trials} trials, expected {expected}")
        if detail.get("objective_names") != study.metric_names:
            raise CheckFailed(
                f"GET /api/studies/{study_id}: objective_names {detail.get('objective_names')}, "
                f"expected the study's metric names {study.metric_names}"
            )

        # The page asks for parameter importances as it opens; the dashboard answers 400 when there
        # are too few complete trials to compute them, and 500 only when it could not read them.
        try:
            body, _ = get(f"{base}/api/studies/{study_id}/param_importances")
            importances = [[p["name"] for p in objective] for objective in json.loads(body)["param_importances"]]
        except urllib.error.HTTPError as error:
            if error.code != 400:
                raise CheckFailed(f"GET /api/studies/{study_id}/param_importances: HTTP {error.code}; see {log_path}")
            importances = None

        # The page itself: the dashboard redirects to /incompatible-rdb-schema when the
        # alembic revision is not Optuna's head.
        page = f"{base}/dashboard/studies/{study_id}"
        _, landed = get(page)
        if "incompatible-rdb-schema" in landed:
            raise CheckFailed(f"GET {page}: redirected to {landed} (the schema version is not Optuna's head)")

        report = {
            "study": args.study,
            "study_id": study_id,
            "api_trials": api_trials,
            "api_best_trials": sorted(t["number"] for t in detail.get("best_trials", [])),
            "objective_names": detail.get("objective_names"),
            "api_param_importances": importances,
            "url": page,
        }
        chromium = find_chromium(args.chromium)
        if chromium is None:
            reason = "no chromium, chromium-browser or google-chrome on PATH (pass --chromium PATH)"
            print(f"dashboard: screenshot skipped: {reason}", file=sys.stderr)
            report.update(screenshot=None, screenshot_skipped=reason)
        else:
            png = os.path.join(os.path.abspath(args.out), "dashboard.png")
            if os.path.exists(png):
                os.remove(png)
            screenshot(chromium, page, png)
            report.update(screenshot=png, screenshot_bytes=os.path.getsize(png))
        return report
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    read = commands.add_parser("read", help="load a study with Optuna and print it")
    create = commands.add_parser("create", help="make a study with Optuna that Lathe can continue")
    dashboard = commands.add_parser(
        "dashboard", help="serve a study with optuna-dashboard, check its API, screenshot it"
    )
    for sub in (read, create, dashboard):
        sub.add_argument("--storage", required=True, help="sqlite:///path.db or postgresql://user@host:port/db")
        sub.add_argument("--study", required=True, help="the study's name")
    create.add_argument("--function", required=True, choices=sorted(FUNCTIONS))
    create.add_argument("--trials", required=True, type=int)
    create.add_argument("--seed", type=int, default=0, help="TPESampler's seed (default 0)")
    dashboard.add_argument("--out", required=True, help="folder for the API answers, the log and dashboard.png")
    dashboard.add_argument("--chromium", help="the Chromium to take the screenshot with (default: found on PATH)")
    dashboard.add_argument("--expect-trials", type=int, help="trials the dashboard must list (default: Optuna's count)")
    args = parser.parse_args()
    # set_metric_names is "experimental" in Optuna 5.1; the warning would only clutter stderr.
    warnings.filterwarnings("ignore", message=".*is experimental.*")

    handlers = {"read": command_read, "create": command_create, "dashboard": command_dashboard}
    try:
        # Strict JSON: an attribute holding inf or nan fails here, with the line below.
        text = json.dumps(handlers[args.command](args), allow_nan=False)
    except CheckFailed as error:
        print(f"optuna_interop {args.command}: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        # Optuna choking on what it read: the traceback says where, the last line what.
        traceback.print_exc()
        print(f"optuna_interop {args.command}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
