"The web app in a real uvicorn process on 127.0.0.1: load, bad uploads, memory, and a person uploading a photo in Chromium."
import asyncio, os, random, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
from conftest import BIN
from browser import chromium_page, free_port, served, OUTPUT
from load import hammer

@pytest.fixture(scope='module')
def export(tmp_path_factory):
    "A portable export of a head fitted on a small demo dataset, and some held-back pictures."
    from lesson2_lib.demo import demo_dataset
    from lesson2_lib.data import verify_images
    from lesson2_lib.train import image_dls, fast_learner, item_paths
    from lesson2_lib.deploy import export_model
    tmp = tmp_path_factory.mktemp('app')
    demo_dataset(tmp/'digits', per_class=30)
    verify_images(tmp/'digits', progress=False)
    dls = image_dls(tmp/'digits', size=96, flip=False)
    export_model(fast_learner(dls, size=96, cache=tmp/'cache', progress=False), tmp/'export', size=96)
    return tmp/'export', item_paths(dls.valid)

@pytest.fixture
def server(export, tmp_path):
    "`lesson2 serve` on a free port; yields (base URL, process); always stopped."
    port = free_port()
    cmd = [str(BIN/'lesson2'), 'serve', '--model', str(export[0]), '--host', '127.0.0.1', '--port', str(port)]
    with served(cmd, f'http://127.0.0.1:{port}/healthz', tmp_path/'serve.log', 60) as proc:
        yield f'http://127.0.0.1:{port}', proc

def rss_mb(pid)->float:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'): return int(line.split()[1]) / 1024

def test_load_on_real_uvicorn(server, export):
    base, proc = server
    blobs = [p.read_bytes() for p in export[1][:64]]
    asyncio.run(hammer(base, blobs, 200))  # warm up: threads, arenas, caches
    before = rss_mb(proc.pid)
    codes, times, secs = asyncio.run(hammer(base, blobs, 2000, bad_every=100))
    after = rss_mb(proc.pid)
    print(f'\n2000 requests, 16 clients: {2000 / secs:.0f} req/s, p50 {np.percentile(times, 50):.1f} ms, '
          f'p99 {np.percentile(times, 99):.1f} ms; RSS {before:.0f} -> {after:.0f} MB')
    assert len(codes) == 2000
    assert sum(c >= 500 for c in codes) == 0
    assert codes.count(415) == 20 and codes.count(200) == 1980  # the bad uploads were refused, the rest served
    assert after - before < 40, f'server memory grew from {before:.0f} to {after:.0f} MB'
    assert proc.poll() is None

def test_upload_limit_on_real_server(server):
    import httpx
    base, _ = server
    r = httpx.post(f'{base}/predict', files={'file': ('big.jpg', b'\xff' * 11_000_000, 'image/jpeg')}, timeout=60)
    assert r.status_code == 413 and 'larger than the limit' in r.json()['error']
    assert httpx.get(f'{base}/healthz').json()['status'] == 'ok'

def test_person_uploads_a_photo_in_chromium(server, export):
    from lesson2_lib.deploy import Predictor
    base, _ = server
    photo = export[1][0]
    expected = Predictor(export[0]).predict(photo)['label']
    OUTPUT.mkdir(exist_ok=True)
    with chromium_page((900, 900)) as page:
        page.goto(base + '/')
        assert 'Drop a photo here' in page.inner_text('#drop')
        page.set_input_files('#file', str(photo))
        page.wait_for_function("() => /%/.test(document.getElementById('label').textContent)", timeout=30_000)
        label = page.inner_text('#label')
        assert label.startswith(expected + ' ('), label
        assert page.locator('#bars .bar').count() == 5
        assert page.evaluate("document.getElementById('preview').naturalWidth") > 0
        page.screenshot(path=str(OUTPUT/'app_upload.png'))
        page.set_input_files('#file', files=[dict(name='notes.jpg', mimeType='image/jpeg', buffer=b'not a picture')])
        page.wait_for_function("() => document.getElementById('error').textContent.length > 0", timeout=30_000)
        assert 'not a picture' in page.inner_text('#error')

def test_predictor_needs_no_fastai_or_torch(export):
    "Serving loads the export with onnxruntime alone: neither the training stack nor a pickle is imported."
    folder, pics = export
    code = (f"import sys; from lesson2_lib.deploy import Predictor; print(Predictor({str(folder)!r}).predict({str(pics[0])!r})['label']); "
            "print(sorted(m for m in ('torch', 'fastai', 'timm', 'pickle_loader') if m in sys.modules))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] in {p.parent.name for p in pics} and out[-1] == '[]', out
