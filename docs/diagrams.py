"""The README's two architecture pictures, drawn from the code as Mermaid flowcharts.

* **Data plane**: where a batch's bytes go, landing -> raw -> Glue -> source -> Glue -> target ->
  Athena, with the real tables of ``configs/*.json`` (read with the platform's own models).
* **Control and deploy plane**: who starts what: the CloudFormation seed, CodeBuild, the
  Terraform modules of ``terraform/main.tf`` (read from the HCL), Dagster's sensors, schedules
  and jobs, Step Functions, Glue, and the alerting path.

``python docs/diagrams.py`` rewrites the blocks between the ``<!-- diagram:... -->`` markers of
README.md; ``--check`` fails when the README is out of step (a test runs it). GitHub renders
Mermaid natively, so there is no image to regenerate and no Graphviz to install.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
sys.path.insert(0, str(REPO / "glue_scripts"))


def _id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def data_plane(config_dir: Path) -> str:
    """Landing to Athena for every configured table; edges follow the configs' prepare sources."""
    from lake_glue.config import IngestConfig, PrepareConfig, load_config_dir, targets_of

    configs = load_config_dir(config_dir)
    ingests = [c for c in configs if isinstance(c, IngestConfig)]
    prepares = [c for c in configs if isinstance(c, PrepareConfig)]
    lines = [
        "flowchart LR",
        '  onprem["on-premise exports<br/>files + _SUCCESS marker"]',
        '  subgraph raw["raw bucket: files exactly as they landed"]',
    ]
    for c in ingests:
        lines.append(f'    raw_{_id(c.config_name)}["{c.source.landing_prefix}/&lt;table&gt;/&lt;batch_id&gt;/"]')
    lines += ["  end", f'  ingest[["Glue: {ingests[0].etl_job if ingests else "ingest"}<br/>parse, type, quarantine"]]']
    lines.append('  subgraph source["source layer: Iceberg tables, typed"]')
    for c in ingests:
        for t in c.table_config:
            lines.append(f'    src_{_id(c.config_name)}_{_id(t.table_name)}[("{c.target.database}.{t.table_name}")]')
    lines += ["  end", '  quarantine[("quarantine<br/>rows with their reason")]']
    prepare_job = prepares[0].etl_job if prepares else "prepare"
    lines.append(f'  prepare[["Glue: {prepare_job}<br/>append / overwrite / upsert"]]')
    lines.append('  subgraph target["target layer: curated Iceberg tables"]')
    for p in prepares:
        for t in p.table_config:
            node = f"tgt_{_id(p.config_name)}_{_id(t.table_name)}"
            lines.append(f'    {node}[("{p.target.database}.{t.table_name}<br/>{t.write_mode}")]')
    lines += [
        "  end",
        '  athena{{"Athena (DuckDB locally)<br/>over committed snapshots"}}',
        '  analysts(["analysts"])',
        "  onprem --> raw",
    ]
    for c in ingests:
        lines.append(f"  raw_{_id(c.config_name)} --> ingest")
        for t in c.table_config:
            src = f"src_{_id(c.config_name)}_{_id(t.table_name)}"
            lines.append(f"  ingest --> {src}")
            for p, target in targets_of(c, t, configs):
                lines.append(f"  {src} --> prepare --> tgt_{_id(p.config_name)}_{_id(target.table_name)}")
    lines += ["  ingest -.-> quarantine", "  target --> athena --> analysts", "  source --> athena"]
    return "\n".join(lines)


def _terraform_modules(main_tf: Path) -> list[str]:
    """The module blocks the Terraform root composes, in file order."""
    import hcl2

    with open(main_tf, encoding="utf-8") as f:
        parsed = hcl2.load(f)
    # python-hcl2 7 keeps the quotes of block labels.
    return [name.strip('"') for block in parsed.get("module", []) for name in block]


def control_plane(main_tf: Path) -> str:
    """Deploy path (seed -> CodeBuild -> Terraform modules) and run path (Dagster -> Step Functions -> Glue)."""
    modules = _terraform_modules(main_tf)
    lines = [
        "flowchart TB",
        '  subgraph deploy["deploy"]',
        '    seed["CFN/seed.yaml<br/>CloudFormation"] --> codebuild["CodeBuild<br/>buildspec.yml"]',
        '    codebuild --> terraform["Terraform<br/>terraform/"]',
        "  end",
        '  subgraph modules["Terraform modules"]',
    ]
    for name in modules:
        lines.append(f'    tf_{_id(name)}["module.{name}"]')
    lines += [
        '    tf_glue_jobs["Glue jobs<br/>glue_jobs.tf"]',
        "  end",
        "  terraform --> modules",
        '  subgraph dagster["Dagster code location lake_platform"]',
        '    sensors["sensors<br/>landing queue / listing, registry sync, batch status"]',
        '    jobs["per-table asset jobs<br/>raw -> source -> target, blocking checks"]',
        '    schedules["schedules<br/>per-config cron, maintenance"]',
        "    sensors --> jobs",
        "    schedules --> jobs",
        "  end",
        '  registry[("DynamoDB<br/>configs, partition registry")]',
        '  sfn["Step Functions<br/>RunGlueJob .sync"]',
        '  glue[["Glue job run"]]',
        '  pipes[("S3 Pipes prefix<br/>context + messages")]',
        '  alarms["CloudWatch alarms"] --> sns["SNS alerts"]',
        "  sensors <--> registry",
        "  jobs --> sfn --> glue",
        "  jobs <-.-> pipes",
        "  glue -.-> pipes",
        "  sfn -. NotifyFailure .-> sns",
        "  sfn -.-> alarms",
    ]
    for name in modules:
        if name in {"orchestration"}:
            lines.append(f"  tf_{_id(name)} -.- sfn")
        if name in {"dynamodb"}:
            lines.append(f"  tf_{_id(name)} -.- registry")
        if name in {"monitoring"}:
            lines.append(f"  tf_{_id(name)} -.- alarms")
    lines.append("  tf_glue_jobs -.- glue")
    return "\n".join(lines)


def render() -> dict[str, str]:
    """Both diagrams, by the README marker name."""
    return {
        "data-plane": data_plane(REPO / "configs"),
        "control-plane": control_plane(REPO / "terraform" / "main.tf"),
    }


def updated_readme(text: str, diagrams: dict[str, str]) -> str:
    """``text`` with each marked block replaced by its diagram; a missing marker is an error."""
    for name, body in diagrams.items():
        pattern = re.compile(rf"(<!-- diagram:{name} -->\n)```mermaid\n.*?```\n(<!-- /diagram:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no <!-- diagram:{name} --> ... <!-- /diagram:{name} --> block")
        text = pattern.sub(lambda m, body=body: f"{m.group(1)}```mermaid\n{body}\n```\n{m.group(2)}", text)
    return text


def main(argv: list[str] | None = None) -> int:
    """Rewrite the README's diagrams, or with ``--check`` report whether they are current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is not up to date")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    new = updated_readme(text, render())
    if args.check:
        if new != text:
            print("README.md diagrams are out of date: run python docs/diagrams.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
