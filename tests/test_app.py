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

@pytest.fixture
def server_without_malloc_steps(export, tmp_path, monkeypatch):
    "`lesson2 serve` with glibc's mmap threshold fixed at 1 MB, so that its memory is what the program holds, not how malloc keeps it."
    # By default glibc raises its mmap threshold after freeing a big block, after which multi-megabyte buffers come from the heap
    # and its free pieces stay mapped: RSS then moves in steps of 50-200 MB at any batch (seen in fresh-clone runs: [207, 217,
    # 210, 210, 210, 308, 366, 424, 384, 391] MB), which no bar can tell from a leak. With the threshold fixed, blocks of 1 MB
    # and more are returned to the system when freed, and the same uploads gave [133, 133, 133, 133, 134, 134, 134, 134, 134,
    # 134], [137 x 10] and [134, 134, 135 x 8] MB here (while serving about 20 % fewer full-size uploads a second, which is why
    # `lesson2 serve` does not set it for users).
    monkeypatch.setenv('MALLOC_MMAP_THRESHOLD_', str(1 << 20))
    port = free_port()
    cmd = [str(BIN/'lesson2'), 'serve', '--model', str(export[0]), '--host', '127.0.0.1', '--port', str(port)]
    with served(cmd, f'http://127.0.0.1:{port}/healthz', tmp_path/'serve.log', 60) as proc:
        yield f'http://127.0.0.1:{port}', proc

def test_memory_stays_flat_on_full_size_photos(server_without_malloc_steps):
    "Full-size web photos of every size: the server holds no more memory after 3,000 uploads than after 1,500."
    from conftest import shared_dataset
    blobs = [p.read_bytes() for p in sorted(shared_dataset('bears-full').glob('*/*'))]
    base, proc = server_without_malloc_steps
    asyncio.run(hammer(base, blobs, 150))   # warm up
    rss = []
    for _ in range(10):
        codes, _, _ = asyncio.run(hammer(base, blobs, 300))
        assert codes.count(200) == 300
        rss.append(rss_mb(proc.pid))
    print(f'\nRSS after each 300 full-size uploads: {[round(r) for r in rss]} MB')
    # Four runs here moved by at most 4 MB from the first batch to the last. A leak of a tenth of a median upload (40 kB a
    # request) adds 12 MB a batch: about 80 MB from the middle of the first five batches to the last.
    grown = max(rss[-3:]) - float(np.median(rss[:5]))
    assert grown < 40, f'server memory still growing: {[round(r) for r in rss]} MB (+{grown:.0f} MB over the first batches)'

def multipart(data:bytes, name:str='big.jpg')->tuple:
    "A multipart/form-data body with one file field, and its content type, as a browser or requests would send it."
    b = b'lesson2-test-boundary'
    head = b'--' + b + b'\r\nContent-Disposition: form-data; name="file"; filename="' + name.encode() + b'"\r\nContent-Type: image/jpeg\r\n\r\n'
    return head + data + b'\r\n--' + b + b'--\r\n', 'multipart/form-data; boundary=' + b.decode()

def post_urllib(base:str, data:bytes)->tuple:
    "(status, JSON answer) of a multipart upload with urllib, which sends the whole body before reading the answer."
    import json, urllib.request, urllib.error
    body, ctype = multipart(data)
    req = urllib.request.Request(f'{base}/predict', data=body, headers={'Content-Type': ctype}, method='POST')
    try:
        with urllib.request.urlopen(req, timeout=60) as r: return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e: return e.code, json.loads(e.read())

@pytest.mark.parametrize('mb', [11, 30])
def test_oversized_upload_gets_413_in_every_client(server, tmp_path, mb):
    "urllib, httpx (requests-style `files=`) and curl all read the 413 and its JSON, not a broken pipe; the server carries on."
    import httpx
    base, proc = server
    big = b'\xff' * (mb * 1_000_000)
    code, answer = post_urllib(base, big)
    assert code == 413 and 'larger than the limit of 10,000,000 bytes' in answer['error'], (code, answer)
    r = httpx.post(f'{base}/predict', files={'file': ('big.jpg', big, 'image/jpeg')}, timeout=60)
    assert r.status_code == 413 and 'larger than the limit' in r.json()['error']
    (tmp_path/'big.jpg').write_bytes(big)
    out = subprocess.run(['curl', '-s', '-w', '\n%{http_code}', '-F', f'file=@{tmp_path/"big.jpg"}', f'{base}/predict'],
                         capture_output=True, text=True, timeout=60).stdout.splitlines()
    assert out[-1] == '413' and 'larger than the limit' in out[0], out
    assert httpx.get(f'{base}/healthz').json()['status'] == 'ok' and proc.poll() is None

def test_endless_upload_is_cut(server):
    "A client that never stops sending (chunked, no length) is cut off after the drain budget, in well under its time limit."
    import socket
    from lesson2_lib.app import DRAIN_BYTES, DRAIN_SECONDS
    base, proc = server
    port = int(base.rsplit(':', 1)[1])
    chunk = b'%x\r\n' % (1 << 20) + b'\xff' * (1 << 20) + b'\r\n'
    start, sent = time.time(), 0
    with socket.create_connection(('127.0.0.1', port)) as s:
        s.sendall(b'POST /predict HTTP/1.1\r\nHost: test\r\nContent-Type: multipart/form-data; boundary=x\r\nTransfer-Encoding: chunked\r\n\r\n')
        with pytest.raises(OSError):   # reset or broken pipe once the server has had enough
            while sent < 1_000_000_000: s.sendall(chunk); sent += 1 << 20
    seconds = time.time() - start
    print(f'\nendless upload cut after {sent / 1e6:.0f} MB and {seconds:.2f} s (budget {DRAIN_BYTES / 1e6:.0f} MB, {DRAIN_SECONDS:.0f} s)')
    assert sent < 10_000_000 + DRAIN_BYTES + 50_000_000 and seconds < DRAIN_SECONDS + 5
    import httpx
    assert httpx.get(f'{base}/healthz').json()['status'] == 'ok' and proc.poll() is None

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
        page.evaluate("document.getElementById('error').textContent = ''")
        page.set_input_files('#file', files=[dict(name='huge.jpg', mimeType='image/jpeg', buffer=b'\xff' * 30_000_000)])
        page.wait_for_function("() => document.getElementById('error').textContent.length > 0", timeout=30_000)
        assert 'larger than the limit' in page.inner_text('#error')   # fetch read the 413, not a network error

def test_predictor_needs_no_fastai_or_torch(export):
    "Serving loads the export with onnxruntime alone: neither the training stack nor a pickle is imported."
    folder, pics = export
    code = (f"import sys; from lesson2_lib.deploy import Predictor; print(Predictor({str(folder)!r}).predict({str(pics[0])!r})['label']); "
            "print(sorted(m for m in ('torch', 'fastai', 'timm', 'pickle_loader') if m in sys.modules))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] in {p.parent.name for p in pics} and out[-1] == '[]', out

UPLOADER = """
import sys, urllib.request, urllib.error
sys.path.insert(0, {tests!r}); from test_app import multipart
body, ctype = multipart(b'\\xff' * 100_000_000)
print('ready', flush=True)
try: urllib.request.urlopen(urllib.request.Request({url!r}, data=body, headers={{'Content-Type': ctype}}), timeout=60)
except urllib.error.HTTPError as e: print(e.code, flush=True)   # refused with 413, after the server drained the body
"""

def test_requests_keep_their_latency_during_big_uploads(server, export):
    "While three clients send 100 MB uploads (refused and drained, at a bounded rate), small predictions keep their p99 within twice the quiet one (plus a time slice)."
    base, proc = server
    pics = [p.read_bytes() for p in export[1][:40]]
    def timed(n:int)->list:
        out = []
        for i in range(n):
            t = time.perf_counter(); code, _ = post_urllib(base, pics[i % len(pics)]); out.append(1000 * (time.perf_counter() - t))
            assert code == 200
        return out
    timed(30)                       # warm up
    quiet = timed(400)
    code = UPLOADER.format(tests=str(Path(__file__).parent), url=f'{base}/predict')
    uploaders = [subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, text=True) for _ in range(3)]
    try:
        for u in uploaders: assert u.stdout.readline().strip() == 'ready'
        time.sleep(0.3)             # all three are sending
        busy = timed(400)
        still = [u.poll() is None for u in uploaders]   # the uploads lasted the whole measurement
        answers = [u.communicate(timeout=60)[0].split() for u in uploaders]
    finally:
        for u in uploaders: u.kill()
    q99, b99 = np.percentile(quiet, 99), np.percentile(busy, 99)
    print(f'\nquiet p50 {np.percentile(quiet, 50):.1f} ms, p99 {q99:.1f} ms; during 100 MB uploads from three clients '
          f'({sum(map(len, answers))} refused) p50 {np.percentile(busy, 50):.1f} ms, p99 {b99:.1f} ms')
    assert answers == [['413']] * 3 and all(still), (answers, still)
    # p99 of ~2 ms requests is one scheduler time slice away from 8 ms on a busy 2-core machine: measured here, idle 2.2-2.4 -> 2.5-3.4 ms,
    # beside two CPU-burning processes 6.8-8.5 -> 7.9-9.5 ms, and a fresh-clone CI run 3.2 -> 7.8 ms; a starved server would add seconds
    assert b99 <= 2 * q99 + 10, f'p99 rose from {q99:.1f} to {b99:.1f} ms during the uploads'
    assert proc.poll() is None

def cat_jpeg()->bytes:
    "scikit-image's photo of a cat as JPEG bytes: none of the classes of any model here."
    import io
    from PIL import Image
    from skimage import data as skdata
    buf = io.BytesIO(); Image.fromarray(skdata.chelsea()).save(buf, 'JPEG', quality=90); return buf.getvalue()

def test_the_page_says_none_of_these_in_chromium(server, tmp_path):
    base, _ = server
    (tmp_path/'cat.jpg').write_bytes(cat_jpeg())
    with chromium_page((900, 900)) as page:
        page.goto(base + '/')
        page.set_input_files('#file', str(tmp_path/'cat.jpg'))
        page.wait_for_function("() => /%/.test(document.getElementById('label').textContent)", timeout=30_000)
        assert page.inner_text('#label').startswith('None of these (eight, five, four, nine, one, seven, six, three, two, zero); closest: '), page.inner_text('#label')

def test_kept_photos_labelled_in_the_cleaner_are_known_after_retraining(tmp_path):
    "The feedback loop: serve with --keep, send photos, label two kept ones in KeptReview, retrain: the new model knows them."
    import httpx
    from PIL import Image, ImageChops
    from skimage import data as skdata
    from conftest import lesson2
    from lesson2_lib.demo import demo_dataset
    from lesson2_lib.deploy import Predictor
    from lesson2_lib.core import kept_rows, sha256
    from lesson2_lib.clean import KeptReview
    demo_dataset(tmp_path/'digits', per_class=30)
    assert lesson2('verify', tmp_path/'digits').returncode == 0
    train = lambda out: lesson2('train', 'digits', '--out', out, '--size', '96', '--no-flip', cwd=tmp_path)
    assert (r := train('first')).returncode == 0, r.stderr
    threes = sorted((tmp_path/'digits'/'three').glob('*.jpg'))[:4]
    on_brick, brick = [], Image.fromarray(skdata.brick()).convert('RGB')   # a new look the model never saw: threes chalked on a brick wall
    for j, f in enumerate(threes):
        im = Image.open(f).convert('RGB')
        ImageChops.multiply(im, brick.resize(im.size)).save(tmp_path/f'on_brick{j}.jpg', quality=95); on_brick.append(tmp_path/f'on_brick{j}.jpg')
    usual = sorted((tmp_path/'digits'/'seven').glob('*.jpg'))[:3]
    port = free_port()
    cmd = [str(BIN/'lesson2'), 'serve', '--model', str(tmp_path/'first'), '--port', str(port), '--keep', str(tmp_path/'kept')]
    with served(cmd, f'http://127.0.0.1:{port}/healthz', tmp_path/'serve.log', 60):
        answers = {f.name: httpx.post(f'http://127.0.0.1:{port}/predict', files={'file': (f.name, f.read_bytes(), 'image/jpeg')}).json()
                   for f in [*on_brick, *usual]}
        answers['cat.jpg'] = httpx.post(f'http://127.0.0.1:{port}/predict', files={'file': ('cat.jpg', cat_jpeg(), 'image/jpeg')}).json()
        assert httpx.get(f'http://127.0.0.1:{port}/healthz').json()['kept'] == len(kept_rows(tmp_path/'kept'))
    rows = kept_rows(tmp_path/'kept')
    worth = {n for n, a in answers.items() if a['unknown'] or sorted(a['probs'].values())[-1] - sorted(a['probs'].values())[-2] < 0.2}
    print({n: (a['label'], a['unknown'], a['score']) for n, a in answers.items()}, [(r['reason'], r['label']) for r in rows])
    assert answers['cat.jpg']['unknown'] and len(rows) == len(worth)   # kept: exactly the photos it did not know or was unsure of
    unknown_threes = [n for n in worth if n.startswith('on_brick') and answers[n]['unknown']]
    assert len(unknown_threes) >= 2, answers
    kept_file = {r['file'].split('.')[0]: r['file'] for r in rows}   # kept photos are named by their content
    review = KeptReview(tmp_path/'kept', tmp_path/'digits')
    chosen = [kept_file[sha256(tmp_path/n)[:20]] for n in sorted(unknown_threes)[:2]]
    for f in chosen: review.menus[f].value = 'three'   # what a person does in the review: pick the class
    assert [(tmp_path/'digits'/'three'/f).is_file() for f in chosen] == [True, True]
    assert (r := train('second')).returncode == 0, r.stderr
    new = Predictor(tmp_path/'second').predict_batch([tmp_path/'digits'/'three'/f for f in chosen])
    assert [(a['label'], a['unknown']) for a in new] == [('three', False)] * 2, new
