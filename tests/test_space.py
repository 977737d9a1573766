"The Hugging Face Space bundle as it will run there: its own requirements in a fresh venv (no PyTorch), app.py on 127.0.0.1, asked through gradio_client and in Chromium."
import os, shutil, subprocess, venv
from pathlib import Path
import pytest
from conftest import ROOT, lesson2
from browser import chromium_page, free_port, served, OUTPUT

CONSTRAINTS = ROOT/'.ci'/'constraints.txt'

@pytest.fixture(scope='module')
def model(default_model):
    "The default `lesson2 train` export (conftest), with the last two photos of each class it did not train on."
    export, data, held = default_model
    photos = {c.name: sorted(p for p in c.iterdir() if p.suffix.lower() in ('.jpg', '.jpeg', '.png', '.webp'))[-2:]
              for c in sorted(held.iterdir()) if c.is_dir() and not c.name.endswith('.quarantine')}
    return export, photos

@pytest.fixture(scope='module')
def space(model, tmp_path_factory):
    "The bundle, its own fresh venv made from its requirements.txt, and app.py running there; yields (URL, bundle, venv python)."
    tmp = tmp_path_factory.mktemp('bundle')
    first = next(iter(model[1].values()))[0]
    run = lesson2('bundle', '--model', model[0], '--out', tmp/'space', '--example', first, '--title', 'Which class?',
                  '--keep', tmp/'kept')
    assert run.returncode == 0, run.stderr
    venv.create(tmp/'venv', with_pip=True)
    py = tmp/'venv'/'bin'/'python'
    # the bundle's own requirements; the constraints only hold the packages they pull in to the versions CI tested
    pip = subprocess.run([py, '-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', tmp/'space'/'requirements.txt',
                          '-c', CONSTRAINTS], capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, pip.stderr[-3000:]
    port = free_port()
    env = {**os.environ, 'GRADIO_SERVER_NAME': '127.0.0.1', 'GRADIO_SERVER_PORT': str(port), 'GRADIO_ANALYTICS_ENABLED': 'False',
           'HF_HUB_OFFLINE': '1', 'PYTHONPATH': ''}
    with served([str(py), 'app.py'], f'http://127.0.0.1:{port}/', tmp/'app.log', 120, cwd=tmp/'space', env=env) as proc:
        yield f'http://127.0.0.1:{port}/', tmp/'space', py, proc
    shutil.rmtree(tmp/'venv', ignore_errors=True)  # CI's disk is shared: this venv is 600 MB

def cat_photo(folder:Path)->Path:
    "scikit-image's photo of a cat, as a JPEG file in `folder`: none of the classes of any model here."
    from PIL import Image
    from skimage import data as skdata
    Image.fromarray(skdata.chelsea()).save(folder/'cat.jpg', quality=90)
    return folder/'cat.jpg'

def test_requirements_install_without_torch(space):
    _, bundle, py, _ = space
    names = subprocess.run([py, '-m', 'pip', 'list', '--format=freeze'], capture_output=True, text=True).stdout.lower()
    installed = {line.split('==')[0] for line in names.split()}
    assert {'gradio', 'onnxruntime', 'pillow', 'numpy'} <= installed
    assert not installed & {'torch', 'torchvision', 'fastai', 'timm'}, installed & {'torch', 'torchvision', 'fastai', 'timm'}
    assert [r.split('==')[0] for r in (bundle/'requirements.txt').read_text().split()] == ['gradio', 'onnxruntime', 'pillow', 'numpy', 'fastcore']

def test_gradio_client_gets_the_right_classes(space, model, tmp_path):
    from gradio_client import Client, handle_file
    from lesson2_lib.deploy import Predictor
    url, _, _, proc = space
    client, here = Client(url, verbose=False), Predictor(model[0])
    right = total = 0
    for cls, photos in model[1].items():
        for photo in photos:
            answer, verdict = client.predict(handle_file(str(photo)), api_name='/predict')
            assert answer['label'] == here.predict(photo)['label'] and verdict.startswith(answer['label']), (photo, answer, verdict)   # the Space answers as the Predictor here does
            right += answer['label'] == cls; total += 1
    assert right >= total - 1, f'{right} of {total} photos classified as their folder says'
    bad = tmp_path/'not-a-photo.jpg'
    bad.write_bytes(b'<html>this is a web page, not a photo</html>')
    with pytest.raises(Exception, match='not-a-photo.jpg cannot be read as a picture'):
        client.predict(handle_file(str(bad)), api_name='/predict')
    cls, photos = next(iter(model[1].items()))
    assert client.predict(handle_file(str(photos[-1])), api_name='/predict')[0]['label'] == here.predict(photos[-1])['label']
    answer, verdict = client.predict(handle_file(str(cat_photo(tmp_path))), api_name='/predict')   # a photo of none of the classes
    assert answer['label'] == 'none of these' and verdict.startswith(f"none of: {', '.join(here.classes)} (closest: "), (answer, verdict)
    from lesson2_lib.deploy import kept_rows   # bundled with --keep: the Space kept the cat for a person to label
    assert 'none of these' in [r['reason'] for r in kept_rows(space[1].parent/'kept')]
    assert proc.poll() is None

def test_person_uploads_in_chromium(space, model, tmp_path):
    url, _, _, proc = space
    from lesson2_lib.deploy import Predictor
    here = Predictor(model[0])
    (tmp_path/'holiday.jpg').write_bytes(b'GIF89a, but then nothing a picture needs')
    cls, photos = list(model[1].items())[-1]
    with chromium_page() as page:
        page.goto(url)
        upload = page.locator('input[type=file]').first
        upload.wait_for(state='attached', timeout=60_000)
        upload.set_input_files(str(tmp_path/'holiday.jpg'))
        toast = page.locator('.toast-body').first
        toast.wait_for(timeout=60_000)
        assert 'holiday.jpg cannot be read as a picture' in toast.inner_text()
        page.locator('button[aria-label="Clear"]').first.click()
        upload.set_input_files(str(photos[-1]))
        shown = page.locator('[data-testid="label-output-value"]')
        shown.wait_for(timeout=60_000)
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT/'space_upload.png'), full_page=True)
        assert shown.inner_text().strip() == here.predict(photos[-1])['label']
        page.locator('button[aria-label="Remove Image"]').first.click()   # gradio 6: a shown photo is removed with this button
        upload.set_input_files(str(cat_photo(tmp_path)))
        page.wait_for_function("() => document.querySelector('[data-testid=\"label-output-value\"]')?.innerText.trim() === 'none of these'", timeout=60_000)
        assert 'none of:' in page.locator('#verdict').inner_text()
        example = here.predict(next(iter(model[1].values()))[0])['label']
        assert example != shown.inner_text().strip()       # so that the label must change when the example runs
        page.locator('.gallery-item').first.click()   # the example photo under the app runs too
        page.wait_for_function("want => document.querySelector('[data-testid=\"label-output-value\"]')?.innerText.trim() === want",
                               arg=example, timeout=60_000)
    assert proc.poll() is None
