"""Importing the model class does not import the picture side of kwgan.

`kwgan.gan` needs one callback, its NaN guard, from `kwgan.callbacks.guards`; the sample
grids and curves (`kwgan.callbacks.pictures` → `kwgan.grid`, `kwgan.plots` → Pillow,
matplotlib) must stay out of a training process until something asks for them. Keras
itself imports matplotlib when it is installed (`keras.visualization`), so "not in
`sys.modules`" cannot tell who asked: the subprocess hides matplotlib and Pillow
(`scripts.run_without`), imports Keras, and then records every attempt to import them while
`kwgan.gan` is imported, touching none of `kwgan`'s lazily loaded attributes.
"""

from scripts import run_without

PICTURES = ("matplotlib", "PIL")

SCRIPT = """
    import keras


    class Asked:
        '''Records each import of a hidden package that reaches the finders.'''

        def __init__(self):
            self.names = []

        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in HIDDEN:
                self.names.append(name)
            return None


    asked = Asked()
    sys.meta_path.insert(0, asked)
    import kwgan.gan

    loaded = {"kwgan.plots", "kwgan.grid", "kwgan.callbacks.pictures"} & set(sys.modules)
    assert not loaded and not asked.names, (sorted(loaded), asked.names)
    print("OK")
    """


def test_importing_the_gan_leaves_out_the_pictures(tmp_path):
    proc = run_without(PICTURES, SCRIPT, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert proc.stdout.splitlines()[-1] == "OK"
