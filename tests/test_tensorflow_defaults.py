"""`import kwgan` turns TensorFlow's oneDNN CPU kernels on, unless the user chose otherwise.

TensorFlow reads `TF_ENABLE_ONEDNN_OPTS` once, as it loads, and by default leaves oneDNN off
on CPUs without AVX-512 VNNI/BF16 or AMX, where its Eigen kernels train ~2× slower (README,
Speed). A fresh interpreter imports kwgan first, as the experiment scripts do, and asks
TensorFlow whether oneDNN is on.
"""

import pytest

from scripts import ok, run_code

pytest.importorskip("tensorflow")

CODE = """
    import os

    import kwgan
    from tensorflow.python.util import _pywrap_util_port

    print(os.environ["TF_ENABLE_ONEDNN_OPTS"], _pywrap_util_port.IsMklEnabled())
    """


@pytest.mark.backend_neutral
@pytest.mark.parametrize(("given", "expected"), [(None, ["1", "True"]), ("0", ["0", "False"])])
def test_import_kwgan_turns_onednn_on_unless_set(given, expected):
    proc = ok(run_code(CODE, env={"TF_ENABLE_ONEDNN_OPTS": given}))
    assert proc.stdout.split()[-2:] == expected
