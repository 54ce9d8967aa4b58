"""The GX context: gx/great_expectations.yml, made ephemeral and rooted in the configured gx folder."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from warehouse.errors import CouldNotRun, one_line
from warehouse.settings import GX_CONFIG_FILE as CONFIG_FILE

# Contexts built by shared_context, by gx root and configuration text; see there.
_SHARED: dict[tuple[str, str], Any] = {}
# Held while a run registers its suites and runs its checkpoint in a shared context: the checkpoint and
# its definitions are named by phase, so two threads of one process must take turns.
SHARED_CONTEXT_LOCK = threading.RLock()


def build_context(gx_root: Path, in_memory: bool = False) -> Any:
    """An ephemeral GX context whose file stores and Data Docs live under gx_root.

    `in_memory`: every store in memory and no Data Docs site, for a run whose gx/ folder cannot be
    written (read-only, full): the checks still run and the verdict is still printed and reported."""
    return _context(gx_root, _config_text(gx_root), in_memory)


def shared_context(gx_root: Path) -> Any:
    """build_context(gx_root), built once per process for a gx root and the text of its configuration.

    Building a context costs more than a warm run's checks, and everything a run adds to it (suites,
    definitions, the checkpoint, in memory) is registered again by the next run of the phase, while
    results and pages go to the gx folder as before. The file is read on every call, so an edited or
    broken configuration takes effect (or fails) on the next run. Use it under SHARED_CONTEXT_LOCK."""
    text = _config_text(gx_root)
    key = (str(gx_root.resolve()), text)
    with SHARED_CONTEXT_LOCK:
        if key not in _SHARED:
            _SHARED[key] = _context(gx_root, text, in_memory=False)
        return _SHARED[key]


def _config_text(gx_root: Path) -> str:
    config_path = gx_root / CONFIG_FILE
    try:
        return config_path.read_text()
    except FileNotFoundError:
        raise CouldNotRun(f"{config_path} not found: restore gx/{CONFIG_FILE} or set NBA_DQ_GX_ROOT") from None


def _context(gx_root: Path, text: str, in_memory: bool) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        raw = YAML(typ="safe").load(text)
    except YAMLError as error:
        reason = one_line(str(error))
        path = gx_root / CONFIG_FILE
        raise CouldNotRun(f"{path} is not valid YAML ({reason}): restore it from the repository") from None
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


def registered(factory: Any, name: str) -> Any:
    """What `factory` (suites, validation definitions, checkpoints) holds under `name`, or None."""
    from great_expectations.exceptions import DataContextError

    try:
        return factory.get(name)
    except DataContextError:
        return None


def frames_datasource(context: Any, name: str) -> Any:
    """The context's pandas datasource `name`, added on first use."""
    datasources = context.data_sources.all()
    return datasources[name] if name in datasources else context.data_sources.add_pandas(name=name)


def registered_suite(context: Any, name: str, expectations: tuple[Any, ...]) -> Any:
    """The suite `name` holding `expectations`: the registered one if it holds the same, else (re)registered.
    An expectation already in a suite is never added to another one: GX refuses that."""
    import great_expectations as gx

    suite = registered(context.suites, name)
    if suite is not None and _configurations(suite.expectations) == _configurations(expectations):
        return suite
    return context.suites.add_or_update(gx.ExpectationSuite(name=name, expectations=list(expectations)))


def _configurations(expectations: Any) -> list[dict[str, Any]]:
    return [e.dict(exclude={"id", "rendered_content"}) for e in expectations]


def registered_definition(context: Any, name: str, data: Any, suite: Any) -> Any:
    """The validation definition `name` of `data` and `suite`: the registered one if it is theirs."""
    import great_expectations as gx

    definition = registered(context.validation_definitions, name)
    if definition is not None and definition.suite.id == suite.id and definition.data.id == data.id:
        return definition
    if definition is not None:
        context.validation_definitions.delete(name)
    return context.validation_definitions.add(gx.ValidationDefinition(name=name, data=data, suite=suite))


def whole_frame(datasource: Any, asset_name: str, name: str) -> Any:
    """The dataframe asset's one batch definition, `name`: the whole frame a run hands the checkpoint
    (nothing in it depends on the run, so a shared context keeps one per asset)."""
    assets = {asset.name: asset for asset in datasource.assets}
    asset = assets.get(asset_name) or datasource.add_dataframe_asset(name=asset_name)
    definitions = {definition.name: definition for definition in asset.batch_definitions}
    return definitions.get(name) or asset.add_batch_definition_whole_dataframe(name=name)
