#!/usr/bin/env python3
"""ONNX's own checker over every model export_onnx wrote.

    python3 tools/onnx_checker.py <dir>

Runs onnx.checker.check_model(model, full_check=True) — the structural checks plus shape
inference in strict mode — on each <dir>/*.onnx (Debian's python3-onnx 1.12, which knows
opset 17 and IR version 8), and checks the opset, the IR version and the symbolic batch
dimension. Exits 1 naming every file that fails.
"""
import pathlib
import sys

try:
    import onnx
except ImportError as e:  # pragma: no cover
    sys.exit(f"onnx_checker: cannot import onnx ({e}); Debian: apt-get install python3-onnx")


def check(path: pathlib.Path) -> None:
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    if model.ir_version != 8:
        raise ValueError(f"ir_version {model.ir_version}, expected 8")
    opsets = {o.domain: o.version for o in model.opset_import}
    if opsets.get("", None) != 17:
        raise ValueError(f"opset {opsets}, expected 17")
    dims = model.graph.input[0].type.tensor_type.shape.dim
    if not any(d.dim_param == "batch" for d in dims):
        raise ValueError("the input has no symbolic 'batch' dimension")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    files = sorted(pathlib.Path(sys.argv[1]).glob("*.onnx"))
    if not files:
        print(f"onnx_checker: no .onnx files in {sys.argv[1]}", file=sys.stderr)
        return 1
    failed = []
    for path in files:
        try:
            check(path)
            print(f"ok   {path.name}")
        except Exception as e:  # noqa: BLE001 - any failure is reported by name
            failed.append(path.name)
            print(f"FAIL {path.name}: {type(e).__name__}: {e}")
    print(f"onnx {onnx.__version__}: {len(files) - len(failed)} of {len(files)} files pass")
    if failed:
        print("onnx_checker: failing files: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
