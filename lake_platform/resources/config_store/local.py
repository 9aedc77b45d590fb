"""Config items as the JSON files of a folder: the embedded default."""

from __future__ import annotations

import json
from pathlib import Path

from lake_glue.config import (
    load_config_dir,
)
from lake_platform.resources.config_store.base import ConfigStore


class LocalConfigStore(ConfigStore):
    """Reads the JSON config files of a folder."""

    config_dir: str

    def list_configs(self):
        return load_config_dir(Path(self.config_dir))

    def job_config_source(self):
        return f"file://{Path(self.config_dir).resolve()}"

    def _stored_bodies(self):
        return {p.stem: p.read_text(encoding="utf-8") for p in sorted(Path(self.config_dir).glob("*.json"))}

    def _write(self, config):
        # Written the way engineers keep them: indented, keys in model order, one file per config.
        path = Path(self.config_dir) / f"{config.config_name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(config.model_dump(mode="json", exclude_none=True), indent=2) + "\n"
        pending = path.with_name(f".{path.name}.tmp")
        pending.write_text(text, encoding="utf-8")
        pending.replace(path)
