"The static site of `lesson2 bundle --static` as a visitor meets it: served by `python -m http.server` on 127.0.0.1, used in Chromium, offline."
import shutil, sys
from pathlib import Path
import numpy as np
import pytest
from conftest import lesson2
from browser import chromium_page, free_port, served, OUTPUT

PHOTO = ('.jpg', '.jpeg', '.png', '.webp')

@pytest.fixture(scope='module')
def site(tmp_path_factory, default_model):
    "A model made by the default `lesson2 train` (the bears when ../shared has them, else the demo digits), its static site served on 127.0.0.1, and photos it did not train on."
    tmp = tmp_path_factory.mktemp('static')
    export, data, held = default_model
    shutil.copytree(export, tmp/'model')   # the default `lesson2 train` export (conftest), as a relative path the bundle command is given
    assert (r := lesson2('bundle', '--static', '--model', 'model', '--out', 'site', cwd=tmp)).returncode == 0, r.stderr
    photos = sorted(p for p in held.glob('*/*') if p.suffix.lower() in PHOTO)
    port = free_port()
    cmd = [sys.executable, '-m', 'http.server', '--bind', '127.0.0.1', '--directory', str(tmp/'site'), str(port)]
    with served(cmd, f'http://127.0.0.1:{port}/', tmp/'http.log', 30):
        yield f'http://127.0.0.1:{port}/', tmp, photos, r.stdout

def upload(page, path:Path|None=None, **buffer)->dict:
    "Give the page's first file input one file; wait for its answer (or refusal); what the page answered, and its input tensor."
    before = page.evaluate('window.lesson2.times.length')
    page.locator('input[type=file]').first.set_input_files(str(path) if path else buffer)
    page.wait_for_function("n => window.lesson2.times.length > n || document.getElementById('error').textContent.length > 0", arg=before, timeout=60_000)
    return page.evaluate("""() => ({label: document.getElementById('label').textContent, prob: document.getElementById('label').dataset.prob,
        error: document.getElementById('error').textContent, answer: window.lesson2.answer, input: window.lesson2.input && Array.from(window.lesson2.input),
        ms: window.lesson2.times[window.lesson2.times.length - 1]})""")

def a_photo_of_each_kind(photos:list)->list:
    "Every fifth photo, and every one that is no JPEG: each class and format of the 150 (51 of them on bears-full), a third of the time."
    from PIL import Image
    return [p for i, p in enumerate(photos) if i % 5 == 0 or Image.open(p).format != 'JPEG']

def agreement(page, predictor, photos:list)->list:
    "Upload each photo to the page: (name, page's label, Python's label, probability difference, ms) rows; assert they agree."
    rows = []
    for p in photos:
        got, here = upload(page, p), predictor.predict(p)
        want = 'none of these' if here['unknown'] else here['label']
        rows.append((p.name, got['label'], want, abs(float(got['prob']) - here['prob']), got['ms']))
    same = np.mean([g == w for _, g, w, _, _ in rows])
    spread = np.array([d for *_, d, _ in rows])
    print(f'{len(rows)} photos: the page gives the label Python gives on {same:.1%}; probability differences: median {np.median(spread):.4f}, '
          f'90th percentile {np.quantile(spread, 0.9):.4f}, largest {spread.max():.4f}; within 0.02 on {np.mean(spread <= 0.02):.0%}')
    print('differing:', [r[:3] for r in rows if r[1] != r[2]])
    assert same >= 0.98
    assert np.mean(spread <= 0.02) >= 0.9
    return rows

@pytest.mark.slow
def test_the_page_agrees_on_every_photo(site):
    "All the photos (150 full-size ones on bears-full), not just a photo of each kind: `pytest -m slow`."
    from lesson2_lib.deploy import Predictor
    base, work, photos, said = site
    with chromium_page((760, 900)) as page:
        page.goto(base)
        page.wait_for_function('window.lesson2 && window.lesson2.ready', timeout=60_000)
        agreement(page, Predictor(work/'model'), photos)

def test_the_page_predicts_what_python_predicts(site, tmp_path):
    from PIL import Image
    from lesson2_lib.core import open_picture
    from lesson2_lib.deploy import Predictor, prepare, latency
    base, work, photos, said = site
    predictor, requests = Predictor(work/'model'), []
    m = predictor.manifest
    print('\n' + said.strip())
    OUTPUT.mkdir(exist_ok=True)
    with chromium_page((760, 900)) as page:
        page.on('request', lambda r: requests.append(r.url))
        page.goto(base)
        page.wait_for_function('window.lesson2 && window.lesson2.ready', timeout=60_000)
        # lossless photos: the page's input tensor is prepare's
        worst = 0.0
        for j, p in enumerate(photos[::30][:5]):
            png = tmp_path/f'{j}.png'; Image.open(p).convert('RGB').save(png)
            got = upload(page, png)
            want = prepare(open_picture(png), predictor.size, m['resize'], m['mean'], m['std'])
            worst = max(worst, float(np.abs(np.array(got['input'], np.float32).reshape(want.shape) - want).max()))
        print(f'PNG: largest difference between the page\'s input and prepare\'s: {worst:.2e} (on 5 photos)')
        assert worst < 1e-3
        # a phone photo stored on its side, with an EXIF tag saying so: the page turns it upright as `open_picture` does
        im = Image.open(photos[0]).convert('RGB'); im = im.resize((600, 600 * im.height // im.width))
        exif = Image.Exif(); exif[0x0112] = 6
        im.transpose(Image.Transpose.ROTATE_90).save(tmp_path/'sideways.jpg', quality=95, exif=exif)
        got = np.array(upload(page, tmp_path/'sideways.jpg')['input'], np.float32)
        upright = prepare(open_picture(tmp_path/'sideways.jpg'), predictor.size, m['resize'], m['mean'], m['std']).ravel()
        raw = prepare(Image.open(tmp_path/'sideways.jpg').convert('RGB'), predictor.size, m['resize'], m['mean'], m['std']).ravel()
        print(f'EXIF-rotated JPEG: mean difference from the upright input {np.abs(got - upright).mean():.4f}, from the unturned one {np.abs(got - raw).mean():.4f}')
        assert np.abs(got - upright).mean() < 0.02 < np.abs(got - raw).mean()
        # full-size JPEG, WebP and PNG photos as a search returns them: the page's answer against the Predictor's (what `lesson2 predict` says)
        rows = agreement(page, predictor, a_photo_of_each_kind(photos))
        # a file that is no picture gets a sentence, and the page goes on working
        refused = upload(page, name='notes.jpg', mimeType='image/jpeg', buffer=b'my shopping list, saved with the wrong name')
        assert 'notes.jpg is not a picture this page can read' in refused['error'] and refused['label'] == ''
        again = upload(page, photos[0])
        assert again['error'] == '' and again['label'] == rows[0][1]
        # a photo of something else
        from skimage import data as skdata
        Image.fromarray(skdata.chelsea()).save(tmp_path/'cat.jpg')
        cat = upload(page, tmp_path/'cat.jpg')
        assert cat['label'] == 'none of these' and predictor.predict(tmp_path/'cat.jpg')['unknown'], cat['label']
        assert 'looks like none of' in page.inner_text('#closest')
        page.screenshot(path=str(OUTPUT/'static_none.png'), full_page=True)   # `make screenshots` copies it into the lesson chapter 04_deploy
        ms = [r[4] for r in rows]
    python = latency(predictor.predict, [p.read_bytes() for p in photos[:40]])
    print(f'latency, file to answer: in Chromium p50 {np.median(ms):.0f} ms (p90 {np.quantile(ms, 0.9):.0f} ms; WebAssembly, one thread), '
          f'the Python Predictor p50 {python["p50"]:.0f} ms (onnxruntime, draft decoding)')
    others = [u for u in requests if not u.startswith((base, 'blob:' + base))]   # blob: the preview of the visitor's own photo
    assert requests and not others, f'the page asked another host: {others[:5]}'
    print(f'{len(requests)} requests, every one to {base}')

def test_the_page_ships_the_8bit_graph_only_where_it_is_not_slower(site, tmp_path):
    "An --int8 export of the same model, bundled with --photos: model.json records both graphs' download and time in Chromium, and the choice follows them (#39)."
    import json
    from lesson2_lib.deploy import quantize_export
    base, work, photos, said = site
    shutil.copytree(work/'model', tmp_path/'model8')
    # calibrated and checked on photos it did not train on: what matters here is that the export holds both graphs
    q = quantize_export(tmp_path/'model8', photos[::7][:32], photos[3::7][:40], min_agreement=0, min_saving=-100, timed=8)['int8']
    (tmp_path/'photos').mkdir()
    for p in photos[5::19][:8]: shutil.copy(p, tmp_path/'photos'/p.name)
    run = lesson2('bundle', '--static', '--model', 'model8', '--out', 'site8', '--photos', 'photos', cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    print(run.stdout)
    settings = json.loads((tmp_path/'site8'/'model.json').read_text())
    choice = settings['choice']
    assert choice['photos'] == 8 and set(choice['p50_ms']) == set(choice['bytes']) == {'model.onnx', 'model.int8.onnx'}
    assert choice['bytes']['model.int8.onnx'] < choice['bytes']['model.onnx'] and all(v > 0 for v in choice['p50_ms'].values())
    not_slower = choice['p50_ms']['model.int8.onnx'] <= choice['p50_ms']['model.onnx']
    assert (choice['graph'] == 'model.int8.onnx') == (q['alone'] >= 0.99 and not_slower), (choice, q['alone'])
    assert sorted(p.name for p in (tmp_path/'site8').glob('*.onnx')) == [choice['graph']]
    threshold = q['unknown_threshold'] if choice['graph'] == 'model.int8.onnx' else json.loads((work/'model'/'manifest.json').read_text())['unknown']['threshold']
    assert settings['unknown']['threshold'] == threshold
    assert f"it ships {choice['graph']}" in run.stdout
