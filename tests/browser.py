"Real JupyterLab and Debian's Chromium (driven by Playwright) for the tests of what a person clicks."
import contextlib, json, os, secrets, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

from lesson2_lib.static import CHROMIUM, BROWSER_FLAGS   # the browser and flags the library times its static page with

OUTPUT = Path(__file__).parent/'out'  # screenshots land here (git-ignored)
FLAGS = list(BROWSER_FLAGS)

def free_port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def wait_http(url:str, timeout:float=60, proc=None):
    "Wait until `url` answers 200 (fail early when `proc` died)."
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None: raise RuntimeError(f'server exited with {proc.returncode}')
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200: return
        time.sleep(0.3)
    raise TimeoutError(f'{url} did not answer within {timeout} s')

@contextlib.contextmanager
def chromium_page(viewport=(1400, 1000)):
    "A Playwright page in Debian's headless Chromium (no browser download)."
    if not CHROMIUM.exists(): pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page(viewport=dict(width=viewport[0], height=viewport[1]))
            yield page
        finally: browser.close()

@contextlib.contextmanager
def served(cmd:list, health:str, log:Path, timeout:float=90, **popen):
    "Start the server `cmd` (its output in `log`), wait until `health` answers 200, yield the process; always stop it and its children."
    with open(log, 'w') as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **popen)
        try:
            wait_http(health, timeout, proc)
            yield proc
        finally:
            proc.terminate()
            try: proc.wait(20)
            except subprocess.TimeoutExpired: pass
            with contextlib.suppress(ProcessLookupError): os.killpg(proc.pid, 9)  # what it started (kernels) goes too
            proc.wait()

@contextlib.contextmanager
def jupyterlab(root:Path, tmpdir:Path):
    "JupyterLab serving `root` on 127.0.0.1 with a random token; kernels get TMPDIR=`tmpdir`. Yields (base URL, token)."
    port, token, home = free_port(), secrets.token_hex(16), root.parent/'jupyter-home'
    env = {**os.environ, 'TMPDIR': str(tmpdir), 'HOME': str(home), 'JUPYTER_CONFIG_DIR': str(home/'config'),
           'JUPYTER_DATA_DIR': str(home/'data'), 'JUPYTER_RUNTIME_DIR': str(home/'runtime'), 'IPYTHONDIR': str(home/'ipython'),
           'LESSON2_CACHE': str(tmpdir/'cache')}
    cmd = [str(Path(sys.executable).parent/'jupyter'), 'lab', '--no-browser', '--ip=127.0.0.1', f'--port={port}', '--allow-root',
           f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}', '--LabApp.expose_app_in_browser=True',
           '--LabApp.news_url=', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate']
    labconfig = home/'config'/'labconfig'; labconfig.mkdir(parents=True, exist_ok=True)   # no "Jupyter news?" toast over the page
    (labconfig/'page_config.json').write_text(json.dumps({'disabledExtensions': {'@jupyterlab/apputils-extension:announcements': True}}))
    with served(cmd, f'http://127.0.0.1:{port}/api/status?token={token}', root.parent/'jupyterlab.log', env=env):
        yield f'http://127.0.0.1:{port}', token
