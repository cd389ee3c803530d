"""Type stubs of the compiled module (python/src/lib.rs)."""

class _SchemaFields:
    """Stub-only: the read-only schema fields both compiled classes expose (no such runtime base)."""

    @property
    def id_field(self) -> str: ...
    @property
    def inputs(self) -> list[tuple[str, str]]: ...
    @property
    def model_features(self) -> list[str]: ...

class Bundle(_SchemaFields):
    @staticmethod
    def load(path: str) -> Bundle: ...
    @staticmethod
    def from_bytes(data: bytes) -> Bundle: ...
    @property
    def threshold(self) -> float: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def schema(self) -> Schema: ...
    def score_columns(
        self,
        names: list[str],
        columns: list[bytes | list],
        n_rows: int,
        threshold: float | None = None,
        threads: int | None = None,
        reasons: int = 0,
        reasons_for_all: bool = False,
        explain: bool = False,
    ) -> tuple[
        bytes,
        bytes,
        bytes,
        bytes,
        list[tuple[int, str, str, str]],
        list[tuple[int, int, str, str, float, str]],
        bytes,
    ]: ...

class Schema(_SchemaFields):
    @staticmethod
    def from_json(text: str) -> Schema: ...
    def to_json(self) -> str: ...
    def features_columns(
        self,
        names: list[str],
        columns: list[bytes | list],
        n_rows: int,
        threads: int | None = None,
    ) -> bytes: ...

def import_model(
    library: str,
    model: bytes,
    spec: str | None = None,
    name: str | None = None,
    version: str | None = None,
    fallback_name: str = "model",
    created: str = "",
    all_trees: bool = False,
) -> bytes: ...
