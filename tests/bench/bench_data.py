"""Download + verify, lesson2_lib against fastai, side by side in one run (not a timed test: it prints tables).

The web is played by the practice server, in a process of its own on 127.0.0.1, adding 150 ms to every answer. Two sets of
photos: ../shared/datasets/bears (re-encoded to at most 512 px) and ../shared/datasets/bears-full (the originals an image
search returns: median ~390 kB, up to 3 MB; JPEG, WebP, PNG). Each gets 200 photo URLs (bears-full has 150 photos, so 50 come
twice under a second URL, as search results do), then the same plus 16 bad URLs: 5 HTML pages named .jpg, 5 missing, 3
hanging, 3 truncated.

fastai's side is its work alone (download_images + verify_images, in this process, imports done). Ours is the whole
`lesson2 download` and `lesson2 verify` processes, imports included. Also: the CPU cost of checking one picture, by format,
for fastai's check, a full decode, and ours; and lesson2_lib's throughput on the 2,000-photo ../shared/datasets/pets set."""
import contextlib, csv, io, shutil, subprocess, sys, tempfile, time, warnings
from collections import defaultdict
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np
from PIL import Image
from lesson2_lib.practice import PracticeServer
from lesson2_lib.data import image_files, inspect_image, sniff, NotAnImage

SHARED = Path(__file__).resolve().parents[3]/'shared'/'datasets'
LESSON2 = str(Path(sys.executable).parent/'lesson2')

@contextlib.contextmanager
def server_process(root, latency):
    "A PracticeServer in a process of its own (the web is not in the downloader's process), with `.url` like a PracticeServer."
    code = ("import sys; from lesson2_lib.practice import PracticeServer; "
            f"s = PracticeServer({str(root)!r}, latency={latency}).start(); print(s.port, flush=True); sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, '-c', code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        yield PracticeServer(root, port=port)   # used only to spell URLs; never started here
    finally:
        proc.stdin.close(); proc.wait(10)

def bad_files(folder):
    "Files under image names in `folder` (any depth) that are not complete pictures."
    n = 0
    for p in Path(folder).rglob('*'):
        if p.is_file() and p.suffix.lower() in ('.jpg', '.jpeg', '.png', '.gif', '.webp'):
            try: inspect_image(p.read_bytes())
            except NotAnImage: n += 1
    return n

def photos(root): return sorted(p.relative_to(root) for p in root.glob('*/*') if p.is_file() and not p.name.startswith('.'))

def url_set(srv, root, n=200, bad=False):
    "`n` photo URLs (plain paths, so fastai keeps their suffix; repeats get a query string), and the 16 bad ones if `bad`."
    ps = photos(root)
    good = [srv.url('files', ps[i % len(ps)]) + (f'?copy={i // len(ps)}' if i >= len(ps) else '') for i in range(n)]
    if not bad: return good
    return good + ([srv.url('html', f'page{i}.jpg') for i in range(5)] + [srv.url('files', f'gone/missing{i}.jpg') for i in range(5)]
                   + [srv.url('hang', f'hang{i}.jpg') for i in range(3)] + [srv.url('truncated', p) for p in ps[:3]])

def run_fastai(urls, dest, timeout=4):
    from fastai.vision.utils import download_images as fa_download, verify_images as fa_verify
    from fastai.data.transforms import get_image_files
    dest.mkdir(parents=True)
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()): fa_download(dest, urls=urls, timeout=timeout)   # its bar, not our table
    t_dl = time.perf_counter() - t
    failed = fa_verify(get_image_files(dest))
    return dict(download=t_dl, total=time.perf_counter() - t, files=len(list(dest.iterdir())), flagged=len(failed), bad_left=bad_files(dest))

def run_ours(urls, dest):
    "`lesson2 download` then `lesson2 verify` with their default options (progress bars included), as the processes a user runs."
    dest.mkdir(parents=True); (dest/'bears.txt').write_text('\n'.join(urls) + '\n')
    t = time.perf_counter()
    subprocess.run([LESSON2, 'download', str(dest/'bears.txt'), '--dest', str(dest/'data'), '--allow-private'], capture_output=True)
    t_dl = time.perf_counter() - t
    ver = subprocess.run([LESSON2, 'verify', str(dest/'data')], capture_output=True, text=True)
    total = time.perf_counter() - t
    if ver.returncode: sys.exit(f'lesson2 verify failed: {ver.stderr[-500:]}')
    with open(dest/'data'/'download_report.csv', newline='') as f: flagged = sum(r['status'] != 'ok' for r in csv.DictReader(f))
    return dict(download=t_dl, total=total, files=len(image_files(dest/'data')), flagged=flagged, bad_left=bad_files(dest/'data'))

def fastai_check(data):
    "fastai's verify_image, on bytes: open, draft at half size, load."
    im = Image.open(io.BytesIO(data)); im.draft(im.mode, (im.size[0] // 2, im.size[1] // 2)); im.load()

def check_costs(root):
    "Median CPU milliseconds per picture of each check, by format (best of 3 per picture)."
    checks = dict(fastai=fastai_check, decode=lambda b: inspect_image(b, decode=True), ours=inspect_image)
    costs = defaultdict(list)
    for p in photos(root):
        data = (root/p).read_bytes()
        for name, check in checks.items():
            best = min(_cpu(check, data) for _ in range(3))
            costs[(sniff(data), name)].append(best)
    return {k: (float(np.median(v)) * 1e3, len(v)) for k, v in costs.items()}

def _cpu(f, x):
    t = time.process_time(); f(x); return time.process_time() - t

def compare(name, root, tmp):
    "Rows for one photo set: good URLs only, then with the 16 bad ones."
    rows = []
    with server_process(root, latency=0.15) as srv:
        for bad in (False, True):
            urls, tag = url_set(srv, root, bad=bad), f'{name}{"+bad" if bad else ""}'
            rows.append((tag, len(urls), run_fastai(urls, tmp/tag/'fastai'), run_ours(urls, tmp/tag/'ours')))
    return rows

def print_rows(rows):
    print(f'{"set":16} {"URLs":>5} {"side":28} {"download s":>10} {"+verify s":>10} {"files":>6} {"bad left":>9} {"ratio":>6}')
    for tag, n, fa, ours in rows:
        print(f'{tag:16} {n:5} {"fastai (8 threads, 4 s)":28} {fa["download"]:10.2f} {fa["total"]:10.2f} {fa["files"]:6} {fa["bad_left"]:9}')
        print(f'{"":16} {"":5} {"lesson2 download + verify":28} {ours["download"]:10.2f} {ours["total"]:10.2f} {ours["files"]:6} '
              f'{ours["bad_left"]:9} {fa["total"] / ours["total"]:5.1f}x')

def print_costs(costs):
    print('\nCPU ms to check one picture (median), by format: fastai (draft 1/2 + load), a full decode, ours (structure walk)')
    for fmt in sorted({f for f, _ in costs}):
        n = costs[(fmt, 'ours')][1]
        print(f'  {fmt:5} ({n:3} photos): fastai {costs[(fmt, "fastai")][0]:6.2f}   decode {costs[(fmt, "decode")][0]:6.2f}   '
              f'ours {costs[(fmt, "ours")][0]:6.2f}')

def main():
    bears, full = SHARED/'bears', SHARED/'bears-full'
    for d in (bears, full):
        if not d.is_dir(): sys.exit(f'bench_data: {d} is absent (it exists only beside the development checkout)')
    tmp = Path(tempfile.mkdtemp())
    try:
        rows = compare('bears', bears, tmp) + compare('bears-full', full, tmp)
        print('150 ms latency per answer; fastai: its work alone; lesson2: whole processes, imports included\n')
        print_rows(rows)
        print('\ntarget (bears-full, 200 photo URLs): at least 4x')
        print_costs(check_costs(full))
        pets = SHARED/'pets'
        if pets.is_dir():
            with server_process(pets, latency=0.15) as srv:
                purls = [srv.url('files', p) for p in photos(pets)]
                r = run_ours(purls, tmp/'pets')
            print(f'\npets: {len(purls)} URLs, 150 ms latency: lesson2 download {r["download"]:.1f} s ({len(purls)/r["download"]:.0f} URLs/s), '
                  f'download+verify {r["total"]:.1f} s, {r["files"]} files kept, {r["bad_left"]} bad left')
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
