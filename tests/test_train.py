"`lesson2 train` as a user runs it, and the Learner it saves."
import json, warnings
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
