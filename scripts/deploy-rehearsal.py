#!/usr/bin/env python3
"""Deploy rehearsal: what `serverless deploy` would do, against moto on the loopback interface.

    npm run test:deploy [-- --stage rehearsal --region eu-west-1 --param k=v ...]

1. Packages the stack (`serverless package`) in a temporary service directory, never in the
   repository's .serverless, which other tools read.
2. Lints the packaged create and update templates with cfn-lint: errors fail, warnings are printed.
3. Starts moto in this process on 127.0.0.1 (a free port) and deploys as osls does with
   `deploymentMethod: direct`: CreateStack with the create template (the deployment bucket only),
   the function zips uploaded at the keys the update template's `Code.S3Key` names, UpdateStack
   with the update template. First with the template as packaged; then without the resources moto
   cannot create (and whatever references them), each one named with the reason.
4. Deploys the same template again (must change nothing), and rehearses a failed first deploy:
   a resource that fails once LedgerTable (a fixed TableName) exists, then the retry.

Optional: it needs cfn-lint and moto with its server extra, which `npm test` does not. Exit codes:
0 every check that moto can make passed (those it cannot make are printed as UNVERIFIED), 1 a
check failed, 2 bad arguments, 3 cfn-lint or moto is not installed.
"""
from __future__ import annotations

import argparse
import copy
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
EXIT_FAILED = 1
EXIT_PREREQUISITES = 3  # 2 is argparse's, for bad arguments
INSTALL_HINT = "pip install cfn-lint 'moto[server]'"

# osls deploys with IAM and NAMED_IAM, plus AUTO_EXPAND when the template has a Transform
# (node_modules/osls/lib/plugins/aws/lib/get-shared-stack-action-params.js); moto ignores them.
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
# moto applies a stack operation synchronously, inside the API call: a stack still *_IN_PROGRESS
# this long after the call returned is stuck, not slow.
WAIT_SECONDS = 5.0
LEDGER_ID = "LedgerTable"
# Injected into the failed-first-deploy scenario: a second table with LedgerTable's name. The Ref
# orders it after LedgerTable, and CloudFormation (and moto) fail it with "already exists".
FAILING_ID = "RehearsalFailsAfterLedger"

# Why a cfn-lint warning that the packaged template is known to raise is harmless. Printed next to
# the warning; nothing is ignored, so a new finding of one of these rules is still shown.
KNOWN_WARNINGS = {
    "W3005": "osls writes DependsOn on the function's role and log group itself; the GetAtt already "
    "orders them, the DependsOn is redundant, not wrong",
    "W8003": "the condition compares stage params, which are resolved when packaging, so it is "
    "constant in this package; it varies with --param",
    "W1033": "passRoleArns is empty in this package: the Fn::Split is under Fn::If HasPassRoleArns, "
    "which is false, so the statement is never deployed",
}


class RehearsalError(Exception):
    """A step could not run (packaging, cfn-lint itself); the message says which and why."""


# ------------------------------------------------------------------------------------------ args


@dataclass
class Options:
    stage: str
    region: str
    params: list[str]
    keep: bool


def parse_options(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="npm run test:deploy --",
        description="Package the stack, lint it, and rehearse its deploy against moto (loopback only).",
    )
    parser.add_argument("--stage", default="rehearsal")
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--param", action="append", default=[], metavar="K=V", help="passed to serverless package")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and print its path")
    args = parser.parse_args(argv)  # exits 2 on a bad argument
    bad = [p for p in args.param if not re.fullmatch(r"[A-Za-z0-9_]+=.*", p, re.S)]
    if bad:
        parser.error(f"--param must be K=V: {', '.join(bad)}")
    return Options(stage=args.stage, region=args.region, params=args.param, keep=args.keep)


def missing_prerequisites() -> list[str]:
    """What is missing to run the rehearsal: Python modules, and npx for packaging."""
    missing = []
    for module, package in [("cfnlint", "cfn-lint"), ("moto", "moto"), ("boto3", "boto3 (comes with moto)"),
                            ("flask", "moto[server] (flask)"), ("flask_cors", "moto[server] (flask-cors)")]:
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    if shutil.which("npx") is None:
        missing.append("npx (Node.js)")
    return missing


# ------------------------------------------------------------------------------------- packaging


@dataclass
class Package:
    dir: Path
    service: str
    create_template: dict[str, Any]
    update_template: dict[str, Any]

    @property
    def create_path(self) -> Path:
        return self.dir / "cloudformation-template-create-stack.json"

    @property
    def update_path(self) -> Path:
        return self.dir / "cloudformation-template-update-stack.json"


def package_stack(work_dir: Path, options: Options) -> Package:
    """`serverless package` in a service directory of its own (as test/stack/template.ts
    `packageWith` does): osls deletes `<service dir>/.serverless` even with `--package <dir>`."""
    service_dir = work_dir / "service"
    service_dir.mkdir()
    for entry in REPOSITORY_ROOT.iterdir():
        if entry.name in {".serverless", ".esbuild", ".git", "serverless.yml", "coverage"}:
            continue
        (service_dir / entry.name).symlink_to(entry)
    shutil.copyfile(REPOSITORY_ROOT / "serverless.yml", service_dir / "serverless.yml")
    package_dir = work_dir / "package"
    args = ["npx", "serverless", "package", "--stage", options.stage, "--region", options.region]
    for param in options.params:
        args += ["--param", param]
    args += ["--package", str(package_dir)]
    done = subprocess.run(args, cwd=service_dir, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RehearsalError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    def read(name: str) -> dict[str, Any]:
        return json.loads((package_dir / name).read_text())

    return Package(
        dir=package_dir,
        service=read("serverless-state.json")["service"]["service"],
        create_template=read("cloudformation-template-create-stack.json"),
        update_template=read("cloudformation-template-update-stack.json"),
    )


# -------------------------------------------------------------------------------------- cfn-lint


@dataclass
class Finding:
    rule: str
    level: str
    message: str
    where: str


def lint(paths: list[Path], region: str) -> list[Finding]:
    """cfn-lint (the same Python as this script, so the version checked is the one imported) in
    JSON, so that errors and warnings are told apart by level, not by parsing text."""
    code = "import sys; sys.argv[0] = 'cfn-lint'; from cfnlint.runner import main; sys.exit(main())"
    args = [sys.executable, "-c", code, "--format", "json", "--regions", region, "--", *map(str, paths)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    try:
        matches = json.loads(done.stdout or "[]")
    except json.JSONDecodeError as err:
        raise RehearsalError(f"cfn-lint failed ({done.returncode}): {done.stdout}\n{done.stderr}") from err
    # Exit code bits: 2 errors, 4 warnings, 8 informational; 1 (or no JSON) cfn-lint itself failed.
    if done.returncode & 1 and not matches:
        raise RehearsalError(f"cfn-lint failed ({done.returncode}): {done.stderr}")
    return [
        Finding(
            rule=m["Rule"]["Id"],
            level=m["Level"],
            message=m["Message"],
            where=f"{Path(m['Filename']).name}:{m['Location']['Start']['LineNumber']} "
            f"{'/'.join(str(p) for p in m['Location']['Path'])}",
        )
        for m in matches
    ]


# ---------------------------------------------------------------------- template (pure functions)

Template = dict[str, Any]


def references(value: Any) -> set[str]:
    """Logical ids (and pseudo parameters) a value refers to through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0])
            elif key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                # ${Name} or ${Name.Attribute}; ${!Literal} is an escaped literal.
                for name in re.findall(r"\$\{(?!!)([^}.]+)(?:\.[^}]+)?\}", text):
                    if name not in variables:
                        found.add(name)
                found |= references(variables)
            else:
                found |= references(arg)
    return found


def depends_on(resource: dict[str, Any]) -> list[str]:
    value = resource.get("DependsOn", [])
    return [value] if isinstance(value, str) else list(value)


@dataclass
class Reduction:
    template: Template
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (logical id, type, reason)
    dropped_depends_on: list[tuple[str, str]] = field(default_factory=list)  # (resource, dependency)
    skipped_outputs: list[tuple[str, str]] = field(default_factory=list)  # (output, reason)


def without_resources(template: Template, unsupported: dict[str, str]) -> Reduction:
    """The template without the resources in `unsupported` (logical id -> reason) and, so that
    what is left stays consistent, without every resource or output that refers to one of them
    (transitively); DependsOn entries naming a removed resource are dropped."""
    result = copy.deepcopy(template)
    resources: dict[str, Any] = result["Resources"]
    reasons = dict(unsupported)
    changed = True
    while changed:
        changed = False
        for logical_id, resource in resources.items():
            if logical_id in reasons:
                continue
            hit = sorted(references(resource.get("Properties", {})) & reasons.keys())
            if hit:
                reasons[logical_id] = f"references skipped {', '.join(hit)}"
                changed = True
    reduction = Reduction(template=result)
    for logical_id, reason in reasons.items():
        reduction.skipped.append((logical_id, resources[logical_id]["Type"], reason))
        del resources[logical_id]
    for logical_id, resource in resources.items():
        kept = [d for d in depends_on(resource) if d not in reasons]
        for dependency in depends_on(resource):
            if dependency in reasons:
                reduction.dropped_depends_on.append((logical_id, dependency))
        if "DependsOn" in resource:
            if kept:
                resource["DependsOn"] = kept
            else:
                del resource["DependsOn"]
    for name, output in list(result.get("Outputs", {}).items()):
        hit = sorted(references(output) & reasons.keys())
        if hit:
            reduction.skipped_outputs.append((name, f"references skipped {', '.join(hit)}"))
            del result["Outputs"][name]
    return reduction


def condition_value(name: str, conditions: dict[str, Any]) -> Optional[bool]:
    """A condition of the packaged template, where stage params are literals already; None when
    it depends on something only CloudFormation knows (a Ref)."""

    def evaluate(value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            (key, arg), = value.items()
            if key == "Condition":
                return condition_value(arg, conditions)
            if key == "Fn::Equals":
                left, right = evaluate(arg[0]), evaluate(arg[1])
                return None if left is None or right is None else left == right
            if key == "Fn::Not":
                inner = evaluate(arg[0])
                return None if inner is None else not inner
            if key in ("Fn::And", "Fn::Or"):
                values = [evaluate(a) for a in arg]
                if None in values:
                    return None
                return all(values) if key == "Fn::And" else any(values)
            return None
        return value if isinstance(value, (str, bool, int)) else None

    return evaluate(conditions[name])


def expected_resources(template: Template) -> dict[str, Optional[bool]]:
    """Logical id -> whether CloudFormation creates it (None: cannot tell before deploying)."""
    conditions = template.get("Conditions", {})
    return {
        logical_id: True if "Condition" not in r else condition_value(r["Condition"], conditions)
        for logical_id, r in template["Resources"].items()
    }


def with_failure_after_ledger(template: Template) -> Template:
    """The template plus a resource that fails once LedgerTable exists: a table with its name."""
    result = copy.deepcopy(template)
    ledger = result["Resources"][LEDGER_ID]
    result["Resources"][FAILING_ID] = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "TableName": {"Ref": LEDGER_ID},
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": ledger["Properties"]["AttributeDefinitions"],
            "KeySchema": ledger["Properties"]["KeySchema"],
        },
    }
    return result


def only_resources(template: Template, logical_ids: Iterable[str]) -> Template:
    keep = set(logical_ids)
    result = copy.deepcopy(template)
    result["Resources"] = {k: v for k, v in result["Resources"].items() if k in keep}
    result.pop("Outputs", None)
    return result


# ----------------------------------------------------------------------------------------- moto


class MotoLog(logging.Filter):
    """Collects what moto says about resource types it has no CloudFormation model for (it logs
    them on the "moto" logger and warns, then skips the resource without failing the stack), and
    keeps those messages out of the output: the rehearsal prints its own "skipped" lines."""

    PATTERNS = [r"No Moto CloudFormation support for (\S+)", r"Tried to parse (\S+) but it's not supported"]
    # Removing a resource it skipped: nothing to say beyond the "skipped" line already printed.
    NEVER_CREATED = r"Unable to delete \S+, as it was never created"

    def __init__(self) -> None:
        super().__init__()
        self.unsupported: set[str] = set()

    def note(self, text: str) -> bool:
        if re.search(self.NEVER_CREATED, text):
            return True
        for pattern in self.PATTERNS:
            match = re.search(pattern, text)
            if match:
                self.unsupported.add(match.group(1))
                return True
        return False

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.note(record.getMessage())


class Emulator:
    """moto in this process, bound to 127.0.0.1 only, on a port the OS picks (port 0)."""

    def __init__(self, region: str) -> None:
        import boto3
        from botocore.config import Config
        from moto.server import ThreadedMotoServer

        self.log = MotoLog()
        logging.getLogger("moto").addFilter(self.log)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        warnings.filterwarnings("always", message="Tried to parse")
        warnings.filterwarnings("always", message="Unable to delete")
        shown = warnings.showwarning
        warnings.showwarning = lambda message, *args, **kwargs: (
            None if self.log.note(str(message)) else shown(message, *args, **kwargs)
        )

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        # Explicit endpoint and dummy keys: nothing here can reach a real AWS account. No retries:
        # a retried CreateStack would report "already exists" instead of the first error.
        settings = dict(
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1}),
        )
        self.cfn = boto3.client("cloudformation", **settings)
        self.s3 = boto3.client("s3", **settings)
        self.dynamodb = boto3.client("dynamodb", **settings)
        self.awslambda = boto3.client("lambda", **settings)

    def reset(self) -> None:
        """Forgets every resource (moto's /moto-api/reset), so that each scenario starts empty."""
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"), timeout=30)
        self.log.unsupported.clear()

    def stop(self) -> None:
        self.server.stop()


def moto_has_model(resource_type: str) -> bool:
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map

    return resource_type.startswith("Custom::") or (
        resource_type not in NULL_MODELS and resource_type in get_model_map()
    )


def skip_reason(resource: dict[str, Any], observed: set[str], created: Optional[bool]) -> str:
    import moto

    reason = f"moto {moto.__version__} has no CloudFormation model for it and skips it without failing the stack"
    if resource["Type"] in observed:
        reason += " (it logged so)"
    if created is False:
        reason += f"; its Condition {resource['Condition']} is false in this package anyway"
    return reason


def error_text(err: BaseException) -> str:
    """An AWS error's message. moto answers some CloudFormation calls with the failing service's
    JSON error, which botocore cannot parse as CloudFormation's XML; its message is inside."""
    text = str(err)
    match = re.search(r'"message": "([^"]*)"', text)
    return match.group(1) if match else text.splitlines()[0]


# ------------------------------------------------------------------------------------ deploying


@dataclass
class Outcome:
    ok: bool
    status: str
    error: str = ""


def wait_for_stack(emulator: Emulator, stack: str) -> str:
    """The stack's status once no operation is in progress (or the last one seen, if stuck)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        status = stack_status(emulator, stack)
        if not status.endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def create_stack(emulator: Emulator, stack: str, template: Template) -> Outcome:
    try:
        emulator.cfn.create_stack(StackName=stack, TemplateBody=json.dumps(template), Capabilities=CAPABILITIES)
    except Exception as err:  # noqa: BLE001 - any failure is the outcome being rehearsed
        return Outcome(False, stack_status(emulator, stack), error_text(err))
    status = wait_for_stack(emulator, stack)
    return Outcome(status == "CREATE_COMPLETE", status)


def update_stack(emulator: Emulator, stack: str, template: Template) -> Outcome:
    try:
        emulator.cfn.update_stack(StackName=stack, TemplateBody=json.dumps(template), Capabilities=CAPABILITIES)
    except Exception as err:  # noqa: BLE001
        # osls treats this one as success (nothing to deploy).
        if "No updates are to be performed" in str(err):
            return Outcome(True, stack_status(emulator, stack), "No updates are to be performed.")
        return Outcome(False, stack_status(emulator, stack), error_text(err))
    status = wait_for_stack(emulator, stack)
    return Outcome(status == "UPDATE_COMPLETE", status)


def stack_status(emulator: Emulator, stack: str) -> str:
    try:
        return emulator.cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    except Exception as err:  # noqa: BLE001
        return f"(describe_stacks failed: {error_text(err)})"


def upload_artifacts(emulator: Emulator, stack: str, package: Package, template: Template) -> list[str]:
    """Uploads each function's zip to the deployment bucket (the create stack's output) at the key
    its Code.S3Key names, as osls's upload step does. Returns the keys."""
    outputs = emulator.cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    bucket = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "ServerlessDeploymentBucketName")
    keys = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        key = resource["Properties"]["Code"]["S3Key"]
        emulator.s3.upload_file(str(package.dir / Path(key).name), bucket, key)
        keys.append(key)
    return keys


@dataclass
class Templates:
    """What `serverless deploy` sends: CreateStack's template, then UpdateStack's."""

    create: Template
    update: Template


def deploy(emulator: Emulator, stack: str, package: Package, templates: Templates) -> tuple[Outcome, Outcome]:
    """`serverless deploy` with deploymentMethod direct, on an account without the stack."""
    created = create_stack(emulator, stack, templates.create)
    if not created.ok:
        return created, Outcome(False, created.status, "not attempted: CreateStack failed")
    upload_artifacts(emulator, stack, package, templates.update)
    return created, update_stack(emulator, stack, templates.update)


def stack_resources(emulator: Emulator, stack: str) -> dict[str, dict[str, Any]]:
    paginator = emulator.cfn.get_paginator("list_stack_resources")
    return {
        r["LogicalResourceId"]: r
        for page in paginator.paginate(StackName=stack)
        for r in page["StackResourceSummaries"]
    }


def table_exists(emulator: Emulator, name: str) -> bool:
    try:
        emulator.dynamodb.describe_table(TableName=name)
        return True
    except emulator.dynamodb.exceptions.ResourceNotFoundException:
        return False


# ------------------------------------------------------------------------------------ reporting


class Report:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, str]] = []  # (check, verdict, detail)
        self.started = time.monotonic()

    def add(self, check: str, verdict: str, detail: str) -> None:
        self.lines.append((check, verdict, detail))

    @property
    def failed(self) -> bool:
        return any(verdict == "FAIL" for _, verdict, _ in self.lines)

    def print(self) -> None:
        width = max(len(check) for check, _, _ in self.lines)
        print("\n== deploy rehearsal: summary ==")
        for check, verdict, detail in self.lines:
            print(f"{check:<{width}}  {verdict:<10}  {detail}")
        unverified = sum(1 for _, verdict, _ in self.lines if verdict == "UNVERIFIED")
        result = "FAIL" if self.failed else "PASS"
        extra = f", {unverified} check(s) UNVERIFIED: moto cannot rehearse them" if unverified else ""
        print(f"result: {result}{extra} ({time.monotonic() - self.started:.1f} s)")


def heading(text: str) -> None:
    print(f"\n== {text} ==", flush=True)


def print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


# ------------------------------------------------------------------------------------ the steps


def step_lint(package: Package, region: str, report: Report) -> None:
    heading("cfn-lint")
    import cfnlint.version

    findings = lint([package.create_path, package.update_path], region)
    for f in findings:
        print(f"{f.level} {f.rule} {f.where}\n    {f.message}")
        if f.rule in KNOWN_WARNINGS and f.level == "Warning":
            print(f"    (known: {KNOWN_WARNINGS[f.rule]})")
    errors = [f for f in findings if f.level == "Error"]
    warnings_ = [f for f in findings if f.level == "Warning"]
    detail = f"cfn-lint {cfnlint.version.__version__}: {len(errors)} error(s), {len(warnings_)} warning(s); no rule ignored"
    print(detail)
    report.add("cfn-lint", "FAIL" if errors else "ok", detail)


def step_deploy(emulator: Emulator, package: Package, stack: str, report: Report) -> Optional[Templates]:
    """Deploys as packaged, then without what moto cannot create; checks the result and that a
    second deploy changes nothing. Returns the templates moto can deploy (None if it could not)."""
    import moto

    full = package.update_template
    heading(f"deploy as packaged (moto {moto.__version__}, {emulator.endpoint})")
    emulator.reset()
    created, updated = deploy(emulator, stack, package, Templates(package.create_template, full))
    print(f"CreateStack (create template): {created.status} {created.error}".rstrip())
    print(f"UpdateStack (update template): {'ok' if updated.ok else 'FAILED'}, {updated.status} {updated.error}".rstrip())
    observed = set(emulator.log.unsupported)
    if observed:
        print(f"moto logged no CloudFormation model for: {', '.join(sorted(observed))}")
    if not created.ok:
        report.add("deploy (moto)", "FAIL", f"CreateStack of the create template: {created.status} {created.error}")
        return None

    # What moto cannot create: the types it said it has no model for, and any other type of the
    # template its model map lacks (an early failure may stop it before it reaches them).
    unsupported = {
        logical_id: skip_reason(r, observed, expected_resources(full)[logical_id])
        for logical_id, r in full["Resources"].items()
        if r["Type"] in observed or not moto_has_model(r["Type"])
    }
    reduction = without_resources(full, unsupported)
    # The create template's resources (the bucket and its policy) are in the update template too.
    templates = Templates(
        create=without_resources(package.create_template, {
            k: v for k, v in unsupported.items() if k in package.create_template["Resources"]
        }).template,
        update=reduction.template,
    )
    heading("deploy without what moto cannot create")
    for logical_id, resource_type, reason in reduction.skipped:
        print(f"skipped {logical_id} ({resource_type}): {reason}")
    for logical_id, dependency in reduction.dropped_depends_on:
        print(f"dropped DependsOn {dependency} from {logical_id}")
    for name, reason in reduction.skipped_outputs:
        print(f"skipped output {name}: {reason}")

    emulator.reset()
    created, updated = deploy(emulator, stack, package, templates)
    print(f"CreateStack: {created.status}; UpdateStack: {updated.status} {updated.error}".rstrip())
    if not updated.ok:
        report.add("deploy (moto)", "FAIL", f"UpdateStack: {updated.status} {updated.error}")
        return None

    deployed = stack_resources(emulator, stack)
    expected = expected_resources(reduction.template)
    rows = [("LogicalId", "Type", "Status", "PhysicalId")]
    problems = []
    for logical_id, resource in full["Resources"].items():
        if logical_id in deployed:
            summary = deployed[logical_id]
            rows.append((logical_id, resource["Type"], summary["ResourceStatus"], summary.get("PhysicalResourceId", "")))
            if not summary["ResourceStatus"].endswith("_COMPLETE"):
                problems.append(f"{logical_id} is {summary['ResourceStatus']}")
        elif logical_id not in reduction.template["Resources"]:
            rows.append((logical_id, resource["Type"], "SKIPPED", ""))
        else:
            condition = resource.get("Condition")
            rows.append((logical_id, resource["Type"], f"not created (Condition {condition})" if condition else "MISSING", ""))
            if expected[logical_id] is True:
                problems.append(f"{logical_id} was not created")
    print_table(rows)

    # The functions run the uploaded code: the zip at the key Code.S3Key names.
    for logical_id, resource in reduction.template["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function" and logical_id in deployed:
            name = deployed[logical_id]["PhysicalResourceId"]
            code_size = emulator.awslambda.get_function(FunctionName=name)["Configuration"]["CodeSize"]
            zip_size = (package.dir / Path(resource["Properties"]["Code"]["S3Key"]).name).stat().st_size
            print(f"{logical_id}: CodeSize {code_size} bytes, {Path(resource['Properties']['Code']['S3Key']).name} {zip_size} bytes")
            if code_size != zip_size:
                problems.append(f"{logical_id} CodeSize {code_size} is not the size of its zip ({zip_size})")
    outputs = {o["OutputKey"] for o in emulator.cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])}
    missing_outputs = sorted(set(reduction.template.get("Outputs", {})) - outputs)
    if missing_outputs:
        problems.append(f"outputs missing: {', '.join(missing_outputs)}")

    created_count = sum(1 for r in deployed.values() if r["ResourceStatus"].endswith("_COMPLETE"))
    detail = (
        f"{created_count} resources complete, {len(reduction.skipped)} skipped "
        f"({', '.join(sorted({t for _, t, _ in reduction.skipped}))}), "
        f"{len(outputs)} outputs"
    )
    report.add("deploy (moto)", "FAIL" if problems else "ok", "; ".join(problems) or detail)

    heading("second deploy, same template")
    before = {k: r.get("PhysicalResourceId") for k, r in deployed.items()}
    upload_artifacts(emulator, stack, package, reduction.template)
    again = update_stack(emulator, stack, reduction.template)
    print(f"UpdateStack: {again.status} {again.error}".rstrip())
    if not again.ok:
        report.add("second deploy", "FAIL", f"UpdateStack: {again.status} {again.error}")
    else:
        after = {k: r.get("PhysicalResourceId") for k, r in stack_resources(emulator, stack).items()}
        replaced = sorted(k for k in before if after.get(k) != before[k])
        report.add(
            "second deploy",
            "FAIL" if replaced else "ok",
            f"replaced or removed: {', '.join(replaced)}" if replaced
            else f"UpdateStack {again.error or again.status}, every physical id unchanged",
        )
    return templates


def step_failed_first_deploy(emulator: Emulator, package: Package, stack: str, templates: Templates, report: Report) -> None:
    """A first deploy that fails after LedgerTable exists, then the retry.

    `serverless deploy` creates the stack with the deployment bucket only and adds everything else
    in an UpdateStack, so a first deploy fails in that update (variant "update"): CloudFormation
    rolls it back to UPDATE_ROLLBACK_COMPLETE and the retry is another UpdateStack. Variant
    "create": CreateStack itself fails after the table (the bucket, LedgerTable and the failing
    resource), rolls back to ROLLBACK_COMPLETE, which cannot be updated: the retry is
    `serverless remove` (DeleteStack) and a new deploy.
    """
    template = templates.update
    ledger = template["Resources"][LEDGER_ID]
    table = ledger["Properties"]["TableName"]
    policy = f"DeletionPolicy {ledger.get('DeletionPolicy', 'Delete')}, UpdateReplacePolicy {ledger.get('UpdateReplacePolicy', 'Delete')}"
    failing = with_failure_after_ledger(template)

    for variant in ("update", "create"):
        heading(f"failed first deploy ({variant}), then retry; {LEDGER_ID} {table}: {policy}")
        emulator.reset()
        if variant == "update":
            _, first = deploy(emulator, stack, package, Templates(templates.create, failing))
        else:
            bucket_ids = list(templates.create["Resources"])
            first = create_stack(emulator, stack, only_resources(failing, bucket_ids + [LEDGER_ID, FAILING_ID]))
        status = wait_for_stack(emulator, stack)
        table_left = table_exists(emulator, table)
        print(f"first deploy: {'ok' if first.ok else 'failed'}: {first.error or first.status}")
        print(f"after the failure: stack {status}; table {table} {'still exists' if table_left else 'deleted'}")
        if first.ok:
            report.add(f"retry after failed deploy ({variant})", "FAIL", f"the injected {FAILING_ID} did not fail the deploy")
            continue

        if variant == "update":
            retry = update_stack(emulator, stack, template)
            retry_text = f"UpdateStack: {retry.status} {retry.error}".rstrip()
        else:
            try:
                emulator.cfn.delete_stack(StackName=stack)
                deleted = "DeleteStack ok"
            except Exception as err:  # noqa: BLE001
                deleted = f"DeleteStack failed: {error_text(err)}"
            print(f"serverless remove: {deleted}; table {table} {'still exists' if table_exists(emulator, table) else 'deleted'}")
            _, retry = deploy(emulator, stack, package, templates)
            retry_text = f"{deleted}; deploy: {retry.status} {retry.error}".rstrip()
        print(f"retry: {'ok' if retry.ok else 'FAILED'}: {retry_text}")

        rolled_back = status in ("ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE")
        name = f"retry after failed deploy ({variant})"
        if rolled_back:
            report.add(name, "ok" if retry.ok else "FAIL", f"rolled back to {status}, table {'kept' if table_left else 'deleted'}; retry: {retry_text}")
        else:
            report.add(
                name,
                "UNVERIFIED",
                f"moto did not roll back (stack left {status}, table {'left in place' if table_left else 'gone'}); "
                f"the retry {'succeeded' if retry.ok else 'failed'} in moto, which says nothing about AWS",
            )


def step_deletion_policies(emulator: Emulator, report: Report) -> None:
    """Whether moto honours each DeletionPolicy on DeleteStack (AWS: Retain and
    RetainExceptOnCreate keep the resource; Delete deletes it)."""
    heading("DeletionPolicy on DeleteStack")
    emulator.reset()
    policies = {"Retain": True, "RetainExceptOnCreate": True, "Delete": False}
    tables = {
        f"Table{policy}": {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": policy,
            "Properties": {
                "TableName": f"rehearsal-{policy.lower()}",
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            },
        }
        for policy in policies
    }
    created = create_stack(emulator, "rehearsal-deletion-policy", {"Resources": tables})
    if not created.ok:
        report.add("RetainExceptOnCreate in moto", "FAIL", f"CreateStack: {created.status} {created.error}")
        return
    emulator.cfn.delete_stack(StackName="rehearsal-deletion-policy")
    wrong = []
    for policy, kept_in_aws in policies.items():
        kept = table_exists(emulator, f"rehearsal-{policy.lower()}")
        print(f"{policy}: moto {'kept' if kept else 'deleted'} the table; AWS {'keeps' if kept_in_aws else 'deletes'} it")
        if kept != kept_in_aws:
            wrong.append(f"{policy} ({'kept' if kept else 'deleted'})")
    honoured = "RetainExceptOnCreate (deleted)" not in wrong
    report.add(
        "RetainExceptOnCreate in moto",
        "UNVERIFIED" if wrong else "ok",
        ("honoured on DeleteStack" if honoured else "NOT honoured: moto deletes it on DeleteStack, AWS keeps it")
        + "; its 'except on create' half needs a rollback, which moto does not do",
    )


# ----------------------------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    options = parse_options(argv)
    missing = missing_prerequisites()
    if missing:
        print(
            f"deploy rehearsal: not run, it needs {', '.join(missing)}.\n"
            f"Install cfn-lint and moto with its server extra: {INSTALL_HINT}",
            file=sys.stderr,
        )
        return EXIT_PREREQUISITES

    report = Report()
    work_dir = Path(tempfile.mkdtemp(prefix="eks-ip-responder-rehearsal-"))
    emulator: Optional[Emulator] = None
    try:
        heading(f"package (stage {options.stage}, region {options.region})")
        started = time.monotonic()
        package = package_stack(work_dir, options)
        zips = sorted(p.name for p in package.dir.glob("*.zip"))
        detail = f"{len(package.update_template['Resources'])} resources, {', '.join(zips)} ({time.monotonic() - started:.1f} s)"
        print(detail)
        report.add("package", "ok", detail)
        stack = f"{package.service}-{options.stage}"

        step_lint(package, options.region, report)
        emulator = Emulator(options.region)
        templates = step_deploy(emulator, package, stack, report)
        if templates is not None:
            if LEDGER_ID in templates.update["Resources"]:
                step_failed_first_deploy(emulator, package, stack, templates, report)
            else:
                report.add("retry after failed deploy", "FAIL", f"{LEDGER_ID} is not in the template")
        step_deletion_policies(emulator, report)
    except RehearsalError as err:
        report.add("rehearsal", "FAIL", str(err))
    except Exception as err:  # noqa: BLE001 - reported as a failed rehearsal, with the summary
        traceback.print_exc()
        report.add("rehearsal", "FAIL", f"{type(err).__name__}: {err}")
    finally:
        if emulator is not None:
            emulator.stop()
        if options.keep:
            print(f"kept {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    report.print()
    return EXIT_FAILED if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
