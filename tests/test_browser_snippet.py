"The browser console snippet of 01_data, run for real: saved results-like pages in Debian's Chromium, then `lesson2 download` on what it saved."
import base64, contextlib, html, io, json, threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote
from PIL import Image
from conftest import lesson2
from browser import chromium_page
from lesson2_lib.data import CONSOLE_SNIPPET, read_url_file

def jpeg(colour, size=(320, 240))->bytes:
    out = io.BytesIO(); Image.new('RGB', size, colour).save(out, 'JPEG'); return out.getvalue()

@contextlib.contextmanager
def site(root):
    "A plain static web server for `root` on 127.0.0.1, as a saved results page and its pictures would be served."
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = ThreadingHTTPServer(('127.0.0.1', 0), partial(Quiet, directory=str(root)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try: yield f'http://127.0.0.1:{srv.server_address[1]}'
    finally: srv.shutdown(); srv.server_close()

def run_snippet(page, url, dest):
    "Open `url`, paste the snippet as a person would in the console, keep the file it saves and what it logged."
    logged = []
    keep = lambda m: logged.append(m.text) if m.type == 'log' else None   # not the page's own errors (a missing favicon)
    page.goto(url)
    page.on('console', keep)
    with page.expect_download() as saved: page.evaluate(CONSOLE_SNIPPET)
    page.remove_listener('console', keep)
    assert saved.value.suggested_filename == 'urls.txt'
    saved.value.save_as(dest)
    return logged

def test_snippet_on_results_pages(tmp_path):
    root = tmp_path/'site'; (root/'full').mkdir(parents=True); (root/'thumbs').mkdir()
    for i, colour in enumerate(['sienna', 'black', 'tan']):
        (root/'full'/f'bear{i}.jpg').write_bytes(jpeg(colour, (1024, 768)))
        (root/'thumbs'/f't{i}.jpg').write_bytes(jpeg(colour))
    inline = 'data:image/jpeg;base64,' + base64.b64encode(jpeg('olive', (64, 48))).decode()
    with site(root) as base, chromium_page() as page:
        full = [f'{base}/full/bear{i}.jpg' for i in range(3)]
        # A Google-style page links full-size pictures through imgurl=; a Bing-style one puts them in the JSON of an `m` attribute.
        (root/'results.html').write_text(f"""<!doctype html><html><body>
          <a href="/imgres?imgurl={quote(full[0], safe='')}&amp;imgrefurl=https%3A%2F%2Fnews.example%2Fbears"><img src="/thumbs/t0.jpg"></a>
          <a class="iusc" m="{html.escape(json.dumps(dict(murl=full[1], turl=base + '/thumbs/t1.jpg')))}"><img src="/thumbs/t1.jpg"></a>
          <a class="iusc" m="{html.escape(json.dumps(dict(murl=full[2])))}"><img src="/thumbs/t2.jpg"></a>
          <a class="iusc" m="{html.escape(json.dumps(dict(murl=full[2])))}"><img src="/thumbs/t2.jpg"></a>
          <a class="iusc" m="not json"><img src="/thumbs/t0.jpg"></a>
          <a m='{{"murl": "javascript:alert(1)"}}'>not a picture address</a>
        </body></html>""")
        # A page showing only thumbnails: one inline as a data: URI, one loaded lazily (data-src), one plain.
        (root/'thumbs.html').write_text(f"""<!doctype html><html><body>
          <img src="{inline}"><img data-src="{base}/thumbs/t1.jpg"><img src="/thumbs/t2.jpg">
        </body></html>""")
        logged = run_snippet(page, f'{base}/results.html', tmp_path/'lists'/'grizzly.txt')
        logged += run_snippet(page, f'{base}/thumbs.html', tmp_path/'lists'/'black.txt')
        assert logged == ['saved 3 image addresses', 'saved 3 image addresses'], logged
        assert list(read_url_file(tmp_path/'lists'/'grizzly.txt').url) == full   # full-size only: thumbnails are not mixed in
        assert list(read_url_file(tmp_path/'lists'/'black.txt').url) == [inline, f'{base}/thumbs/t1.jpg', f'{base}/thumbs/t2.jpg']
        # What the snippet saved is what `lesson2 download` reads: every address becomes a picture in its class folder.
        run = lesson2('download', tmp_path/'lists'/'grizzly.txt', tmp_path/'lists'/'black.txt', '--dest', tmp_path/'data',
                      '--allow-private', '--json')
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)['status'] == {'ok': 6}, run.stdout
    sizes = sorted(Image.open(p).size for p in (tmp_path/'data').glob('*/*.jpg'))
    assert sizes == [(64, 48), (320, 240), (320, 240), (1024, 768), (1024, 768), (1024, 768)], sizes
