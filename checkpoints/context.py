"""The GX context: gx/great_expectations.yml, made ephemeral and rooted in the configured gx folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from warehouse.errors import CouldNotRun, one_line
from warehouse.settings import GX_CONFIG_FILE as CONFIG_FILE


def build_context(gx_root: Path, in_memory: bool = False) -> Any:
    """An ephemeral GX context whose file stores and Data Docs live under gx_root.

    `in_memory`: every store in memory and no Data Docs site, for a run whose gx/ folder cannot be
    written (read-only, full): the checks still run and the verdict is still printed and reported."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig
    from ruamel.yaml import YAML

    config_path = gx_root / CONFIG_FILE
    from ruamel.yaml.error import YAMLError

    try:
        raw = YAML(typ="safe").load(config_path.read_text())
    except FileNotFoundError:
        raise CouldNotRun(f"{config_path} not found: restore gx/{CONFIG_FILE} or set NBA_DQ_GX_ROOT") from None
    except YAMLError as error:
        reason = one_line(str(error))
        raise CouldNotRun(f"{config_path} is not valid YAML ({reason}): restore it from the repository") from None
    _root_file_backends(raw, gx_root)
    if in_memory:
        _keep_in_memory(raw)
    return gx.get_context(mode="ephemeral", project_config=DataContextConfig(**raw))


def _root_file_backends(node: Any, gx_root: Path) -> None:
    """Filesystem backends resolve base_directory against root_directory, which an ephemeral context lacks."""
    if isinstance(node, dict):
        if node.get("class_name") == "TupleFilesystemStoreBackend":
            node["root_directory"] = str(gx_root)
        for value in node.values():
            _root_file_backends(value, gx_root)


def _keep_in_memory(config: dict[str, Any]) -> None:
    for store in config.get("stores", {}).values():
        store["store_backend"] = {"class_name": "InMemoryStoreBackend"}
    config["data_docs_sites"] = {}
