"The in-notebook app served by Voila, as the book deploys it: a real Voila server on 127.0.0.1, a person uploading photos in Chromium."
import os, sys
from pathlib import Path
from conftest import BIN, SHARED
from browser import chromium_page, free_port, served, OUTPUT

def test_app_notebook_under_voila(tmp_path):
    from lesson2_lib.demo import demo_dataset
    from lesson2_lib.data import verify_images
    from lesson2_lib.train import image_dls, fast_learner, item_paths
    from lesson2_lib.deploy import export_model, Predictor
    from lesson2_lib.app import app_notebook
    demo_dataset(tmp_path/'digits', per_class=30)
    verify_images(tmp_path/'digits', progress=False)
    dls = image_dls(tmp_path/'digits', size=96, flip=False)
    export_model(fast_learner(dls, size=96, cache=tmp_path/'cache', progress=False), tmp_path/'site'/'model', size=96)
    page_nb = app_notebook(tmp_path/'site'/'model', tmp_path/'site'/'app.ipynb', 'Which digit?')
    predictor, photos = Predictor(tmp_path/'site'/'model'), item_paths(dls.valid)
    photo = next(p for p in photos if predictor.predict(p)['label'] != predictor.predict(photos[0])['label'])
    (tmp_path/'notes.jpg').write_text('my shopping list, saved with the wrong name')
    from PIL import Image
    from skimage import data as skdata
    Image.fromarray(skdata.chelsea()).save(tmp_path/'cat.jpg', quality=90)   # none of the classes
    port, home = free_port(), tmp_path/'home'
    env = {**os.environ, 'HOME': str(home), 'JUPYTER_CONFIG_DIR': str(home/'config'), 'JUPYTER_DATA_DIR': str(home/'data'),
           'JUPYTER_RUNTIME_DIR': str(home/'runtime'), 'IPYTHONDIR': str(home/'ipython'), 'PATH': f'{BIN}:{os.environ["PATH"]}'}
    cmd = [str(BIN/'voila'), page_nb.name, '--no-browser', f'--port={port}', '--Voila.ip=127.0.0.1']
    with served(cmd, f'http://127.0.0.1:{port}/', tmp_path/'voila.log', 120, cwd=page_nb.parent, env=env) as proc, \
         chromium_page(viewport=(900, 460)) as page:   # the app's size: the screenshot is shown in 04_deploy
        page.goto(f'http://127.0.0.1:{port}/', timeout=120_000)
        upload = page.get_by_role('button', name='Upload')   # ipywidgets 8: the button opens a file chooser
        upload.wait_for(timeout=120_000)                      # Voila ran the notebook and rendered its widgets
        assert 'notebook_app(' not in page.content()           # the page shows the app, not the code
        classify = page.get_by_role('button', name='Classify')
        for f in (photos[0], tmp_path/'notes.jpg', tmp_path/'cat.jpg', photo):
            with page.expect_file_chooser() as chooser: upload.click()
            chooser.value.set_files(str(f))
            want = ('Could not read that file as a picture (UnidentifiedImageError).' if f.name == 'notes.jpg' else
                    f"Prediction: none of these ({', '.join(predictor.classes)}); closest: " if f.name == 'cat.jpg' else
                    f"Prediction: {predictor.predict(f)['label']};")   # each differs from the one before
            for attempt in range(20):   # the upload reaches the kernel a moment after the chooser closes: press again, as a person would
                classify.click()
                try: page.wait_for_function("want => [...document.querySelectorAll('.widget-label')].some(l => l.innerText.startsWith(want))",
                                            arg=want, timeout=3_000); break
                except Exception: pass
            else: raise AssertionError(f'the page never showed {want!r} for {f.name}')
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT/'voila_upload.png'), full_page=True)   # `make screenshots` copies it into the lesson chapter 04_deploy
        assert page.locator('.jupyter-widgets img').count() == 1   # the last photo is shown
        assert proc.poll() is None
