"`lesson2 train` as a user runs it, and the Learner it saves."
import json, warnings
from pathlib import Path
from conftest import lesson2
from lesson2_lib.demo import demo_dataset
from lesson2_lib.data import verify_images

def test_train_fast_saves_a_working_learner(tmp_path):
    demo_dataset(tmp_path/'digits', per_class=25)
    verify_images(tmp_path/'digits', progress=False)
    env = {'LESSON2_CACHE': str(tmp_path/'cache')}
    r = lesson2('train', tmp_path/'digits', '--out', tmp_path/'model', '--size', '64', '--no-flip', '--json', env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads(r.stdout)
    assert m['valid_accuracy'] > 0.7 and m['fast'] and m['size'] == 64 and len(m['classes']) == 10
    assert json.loads((tmp_path/'model'/'metrics.json').read_text()) == m
    assert (tmp_path/'cache'/'features'/'efficientnet_lite0-64').is_dir()
    warnings.filterwarnings('ignore')
    from fastai.learner import load_learner
    learn = load_learner(tmp_path/'model'/'learner.pkl')
    pic = next((tmp_path/'digits'/'three').iterdir())
    assert str(learn.predict(pic)[0]) in m['classes']

def test_train_refuses_unusable_input(tmp_path):
    r = lesson2('train', tmp_path/'nothing', '--out', tmp_path/'m')
    assert r.returncode == 2 and r.stderr.strip() == f'lesson2 train: error: no image folder (or cleaned.csv) at {tmp_path}/nothing'
    (tmp_path/'one'/'cats').mkdir(parents=True)
    r = lesson2('train', tmp_path/'one', '--out', tmp_path/'m')
    assert r.returncode == 2 and 'at least two class subfolders' in r.stderr

def _damaged_copies(src, dest):
    "Copy the dataset `src` to `dest` and add, under class names of its own, three files that pass the quick check but that no decoder reads."
    import io, shutil
    from PIL import Image
    from lesson2_lib.practice import spliced, scrambled
    from lesson2_lib.verify import decode_problem
    from lesson2_lib.data import inspect_image, image_files
    shutil.copytree(src, dest)
    jpegs = [p.read_bytes() for p in image_files(dest) if p.suffix.lower() in ('.jpg', '.jpeg')]
    webp = io.BytesIO(); Image.open(io.BytesIO(jpegs[0])).convert('RGB').resize((160, 120)).save(webp, 'WEBP', lossless=True)
    splices = (spliced(a, b) for a, b in zip(jpegs[1:], jpegs[2:]))
    bad = {'grizzly/b_splice.jpg': next(s for s in splices if decode_problem(s)), 'black/b_overwritten.jpg': scrambled(jpegs[-1], seed=1),
           'teddy/b_lossless.webp': scrambled(webp.getvalue(), seed=2)}
    for name, data in bad.items():
        inspect_image(data)   # the quick check lets each one through
        (dest/name).write_bytes(data)
    return sorted(bad)

def test_training_sets_aside_what_cannot_be_decoded(tmp_path):
    "A folder of real photos plus damaged files the quick check accepts: training goes on, to the same accuracy, and says what it set aside."
    from conftest import shared_dataset
    bears = shared_dataset('bears')
    bad = _damaged_copies(bears, tmp_path/'bears')
    env = {'LESSON2_CACHE': str(tmp_path/'cache')}
    r = lesson2('train', tmp_path/'bears', '--out', tmp_path/'model', env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == (f'set aside 3 pictures that cannot be decoded, the rest went on: moved to '
                                                 f'{tmp_path}/bears.quarantine, reasons in its quarantine.csv')
    m = json.loads((tmp_path/'model'/'metrics.json').read_text())
    assert sorted(Path(a['path']).relative_to(tmp_path/'bears').as_posix() for a in m['set_aside']) == bad
    assert all(a['reason'].startswith('cannot be decoded: ') for a in m['set_aside'])
    assert sorted(p.relative_to(tmp_path/'bears.quarantine').as_posix() for p in (tmp_path/'bears.quarantine').glob('*/*')) == bad
    ref = lesson2('train', bears, '--out', tmp_path/'reference', '--json', env=env)
    assert ref.returncode == 0, ref.stderr[-2000:]
    assert json.loads(ref.stdout)['valid_accuracy'] == m['valid_accuracy'] and json.loads(ref.stdout)['set_aside'] == []
    # the cleaner and fastai's DataLoaders (what fine-tuning reads) set aside new damage too, and --json stays clean
    bad = _damaged_copies(bears, tmp_path/'again')
    r = lesson2('clean', tmp_path/'again', '--model', tmp_path/'model', '--json', env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)['pictures'] == len(list(Path(bears).glob('*/*'))) and 'set aside 3 pictures' in r.stderr
    assert len(list((tmp_path/'again.quarantine').glob('*/*'))) == 3

def test_fastai_dataloaders_never_meet_a_damaged_picture(tmp_path):
    "The DataLoaders fine-tuning reads, from a folder or a table, leave out what cannot be decoded before any epoch starts."
    import pandas as pd
    from lesson2_lib.practice import scrambled
    from lesson2_lib.train import image_dls
    from lesson2_lib.data import image_files
    demo_dataset(tmp_path/"digits", per_class=10)
    verify_images(tmp_path/'digits', progress=False)
    good = image_files(tmp_path/'digits')
    (tmp_path/'digits'/'one'/'x_damaged.jpg').write_bytes(scrambled(good[0].read_bytes()))
    dls = image_dls(tmp_path/'digits', size=32, bs=8, cache=tmp_path/'cache')
    assert len(dls.train_ds) + len(dls.valid_ds) == len(good)
    for dl in (dls.train, dls.valid): assert sum(len(b[1]) for b in dl) > 0   # every batch decodes
    table = pd.DataFrame(dict(path=[p.relative_to(tmp_path/'digits').as_posix() for p in good], label=[p.parent.name for p in good]))
    (tmp_path/'digits'/'two'/'y_damaged.jpg').write_bytes(scrambled(good[-1].read_bytes(), seed=3))
    table.loc[len(table)] = ['two/y_damaged.jpg', 'two']; table.loc[len(table)] = ['one/x_damaged.jpg', 'one']   # the second is gone already
    table.to_csv(tmp_path/'digits'/'cleaned.csv', index=False)
    dls = image_dls(tmp_path/'digits'/'cleaned.csv', size=32, bs=8, cache=tmp_path/'cache')
    assert len(dls.train_ds) + len(dls.valid_ds) == len(good)
    for dl in (dls.train, dls.valid): assert sum(len(b[1]) for b in dl) > 0
    assert sorted(p.name for p in (tmp_path/'digits.quarantine').glob('*/*damaged*')) == ['x_damaged.jpg', 'y_damaged.jpg']
