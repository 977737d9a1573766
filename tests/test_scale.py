"""The hand-off when a learner outgrows one machine, with the real engines: img2dataset (2 processes) downloads a URL table from a
practice server on 127.0.0.1 and `lesson2 ingest` reads what it wrote; `accelerate launch` trains on 2 CPU processes (gloo)."""
import hashlib, json, os, socket, subprocess
import pandas as pd
import pytest
from conftest import lesson2
from lesson2_lib.demo import demo_dataset
from lesson2_lib.practice import PracticeServer
from lesson2_lib.urls import write_url_list
from lesson2_lib.download import QUIET, image_files, run_img2dataset
from lesson2_lib.scale import launch_args
from lesson2_lib.core import console_script

pytest.importorskip('img2dataset', reason="img2dataset is the scale extra: pip install -c .ci/constraints.txt 'lesson2_lib[scale]'")
pytest.importorskip('accelerate', reason="accelerate is the scale extra: pip install -c .ci/constraints.txt 'lesson2_lib[scale]'")

@pytest.fixture(scope='module')
def table(tmp_path_factory):
    "The digits demo (its planted broken, odd and duplicate files included) served on 127.0.0.1, as a url,label parquet table."
    tmp = tmp_path_factory.mktemp('scale')
    m = demo_dataset(tmp/'site'/'digits', per_class=15)
    with PracticeServer(tmp/'site') as srv:
        for label, rows in m.groupby('label'):
            write_url_list([srv.url('files', f'digits/{p}') for p in rows.path], tmp/'urls.parquet', label=label)
        write_url_list([srv.url('status', 404), srv.url('html', 'login.jpg'), 'file:///etc/passwd'], tmp/'urls.parquet', label='zero')
        yield tmp, m, srv

@pytest.fixture(scope='module')
def fetched(table):
    "The table fetched both ways, once for the tests that compare them: img2dataset + `lesson2 ingest`, and `lesson2 download`."
    tmp, m, srv = table
    run_img2dataset(tmp/'urls.parquet', tmp/'i2d', processes=2, timeout=3)
    r = lesson2('ingest', tmp/'i2d', '--dest', tmp/'ingested', '--urls', tmp/'urls.parquet', '--json')
    assert r.returncode == 0, r.stderr
    r2 = lesson2('download', tmp/'urls.parquet', '--dest', tmp/'downloaded', '--allow-private', '--timeout', '3', '--json')
    assert r2.returncode == 0, r2.stderr
    return json.loads(r.stdout)

def test_img2dataset_output_becomes_the_same_dataset_as_download(table, fetched):
    tmp, m, srv = table
    urls = pd.read_parquet(tmp/'urls.parquet')
    assert list(urls.columns) == ['url', 'label'] and len(urls) == len(m) + 2   # file:// stays out of a table img2dataset reads
    ing, dl = (pd.read_csv(tmp/d/'download_report.csv', keep_default_na=False) for d in ('ingested', 'downloaded'))
    assert list(ing.url) == list(urls.url) and fetched['urls'] == len(urls)   # every URL once, in its order
    broken = m.path[m.kind == 'broken'].map(lambda p: srv.url('files', f'digits/{p}'))
    assert set(ing.status[ing.url.isin(broken)]) == {'failed'} == set(dl.status[dl.url.isin(broken)]), ing[ing.url.isin(broken)]
    assert ing.reason[ing.url == srv.url('status', 404)].iloc[0].startswith('img2dataset: ')   # its own reason, kept
    kept = lambda rep: set(rep.sha256[rep.status == 'ok'])
    assert kept(ing) == kept(dl) and len(kept(ing)) > 0.8 * len(m)
    # the odd formats (CMYK, palette, 16-bit...) are converted by verify as after download_images: the same outcomes
    outcomes = []
    for d in ('ingested', 'downloaded'):
        v = lesson2('verify', tmp/d, '--json')
        assert v.returncode == 0, v.stderr
        outcomes.append(json.loads(v.stdout)['status'])
    assert outcomes[0] == outcomes[1] and outcomes[0].get('converted'), outcomes

def test_a_model_on_the_ingested_pictures_is_as_good(table, fetched):
    tmp, m, srv = table
    # the same pictures under the same names in the same class folders: of two URLs giving the same bytes, both keep the one listed first
    listing = lambda d: sorted((p.relative_to(tmp/d).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest()) for p in image_files(tmp/d))
    assert listing('ingested') == listing('downloaded')
    acc = {}
    for d in ('ingested', 'downloaded'):
        r = lesson2('train', tmp/d, '--out', tmp/f'model-{d}', '--size', '64', '--no-flip', '--seed', '0', '--json', env=QUIET)
        assert r.returncode == 0, r.stderr
        acc[d] = json.loads(r.stdout)['valid_accuracy']
    assert abs(acc['ingested'] - acc['downloaded']) <= 0.02, acc

def test_webdataset_shards_are_read_too(table, fetched):
    tmp, m, srv = table
    run_img2dataset(tmp/'urls.parquet', tmp/'shards', processes=2, timeout=3, output_format='webdataset')
    assert list((tmp/'shards').glob('*.tar'))
    r = lesson2('ingest', tmp/'shards', '--dest', tmp/'from-tars', '--json')   # without the table: the URLs img2dataset recorded
    assert r.returncode == 0, r.stderr
    rep = pd.read_csv(tmp/'from-tars'/'download_report.csv', keep_default_na=False)
    first = pd.read_csv(tmp/'ingested'/'download_report.csv', keep_default_na=False)
    assert len(rep) == len(pd.read_parquet(tmp/'urls.parquet'))
    assert set(rep.sha256[rep.status == 'ok']) == set(first.sha256[first.status == 'ok'])

def test_ingest_names_what_is_wrong(tmp_path):
    r = lesson2('ingest', tmp_path/'nothing', '--dest', tmp_path/'d')
    assert r.returncode == 2 and 'no img2dataset output folder at' in r.stderr
    (tmp_path/'empty').mkdir()
    r = lesson2('ingest', tmp_path/'empty', '--dest', tmp_path/'d')
    assert r.returncode == 2 and 'holds no img2dataset shard' in r.stderr and not (tmp_path/'d'/'download_report.csv').exists()

def free_port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def test_two_processes_train_as_one_does(tmp_path):
    """fastai's fine_tune on 2 CPU processes (gloo) against 1, the same seed and 32 pictures a step: it finishes, rank 0 alone prints
    and exports, and the accuracy stays within the spread measured between such pairs (tests/bench/bench_scale.py, 2026-12-04, five seeds
    at this size and rate: 0.3 points apart on average, 11.9 at most; one process alone spans 12.7 points between seeds)."""
    demo_dataset(tmp_path/'digits', per_class=60)
    common = ['--fastai', '--epochs', '1', '--size', '64', '--seed', '0', '--no-flip', '--json']   # train's rate, 1e-3
    runs = {}
    for n, bs in ((1, 32), (2, 16)):
        cmd, env = launch_args(n, tmp_path/'digits', '--out', tmp_path/f'model-{n}', '--bs', bs, *common, cpu=True, port=free_port())
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env={**os.environ, **env})
        assert r.returncode == 0, r.stderr[-3000:]
        runs[n] = json.loads(r.stdout)   # rank 0 alone prints: stdout is one JSON document
    one, two = runs[1], runs[2]
    assert (one['processes'], two['processes']) == (1, 2) and two['valid_items'] == one['valid_items']
    assert two['valid_accuracy'] > 0.5 and abs(one['valid_accuracy'] - two['valid_accuracy']) <= 0.15, (one['valid_accuracy'], two['valid_accuracy'])
    assert json.loads((tmp_path/'model-2'/'metrics.json').read_text())['processes'] == 2
    assert sorted(p.name for p in (tmp_path/'model-2').iterdir()) == sorted(p.name for p in (tmp_path/'model-1').iterdir())   # exported once, whole

def test_the_cpu_switch_of_accelerate_launch_is_refused_with_the_launch_that_works(tmp_path):
    """`accelerate launch --cpu --num_processes 2` starts one process on one machine (huggingface/accelerate#2741): `lesson2 train` stops
    before any work and names the launch that starts two, rather than training alone while two were asked for."""
    demo_dataset(tmp_path/'digits', per_class=15)
    cmd = [console_script('accelerate', 'scale'), 'launch', '--cpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no',
           '--dynamo_backend', 'no', console_script('lesson2'), 'train', str(tmp_path/'digits'), '--fastai', '--epochs', '1', '--out', str(tmp_path/'m')]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, **QUIET})
    assert r.returncode != 0 and 'ACCELERATE_USE_CPU=true accelerate launch --multi_gpu --num_processes N' in r.stderr, r.stderr[-2000:]
    assert r.stderr.count('started this one process although more were asked') >= 1 and not (tmp_path/'m').exists()
