"""Download + verify, lesson2_lib against fastai, side by side in one run (not a timed test: it prints a table).

The web is played by the practice server, in a process of its own on 127.0.0.1, adding 150 ms to every answer. It serves 200 real bear
photos from ../shared/datasets/bears plus 16 bad URLs: 5 HTML pages named .jpg, 5 missing, 3 hanging, 3 truncated.
Also reports lesson2_lib's throughput on the 2,000-photo ../shared/datasets/pets set."""
import contextlib, shutil, subprocess, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
from lesson2_lib.practice import PracticeServer
from lesson2_lib.data import download_images, verify_images, image_files, inspect_image, NotAnImage

SHARED = Path(__file__).resolve().parents[3]/'shared'/'datasets'

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

def url_set(srv, root, n=200):
    "200 photo URLs (plain paths, so fastai keeps their suffix) and the 16 bad ones."
    photos = sorted(p.relative_to(root) for p in root.glob('*/*') if p.is_file())[:n]
    good = [srv.url('files', p) for p in photos]
    bad = ([srv.url('html', f'page{i}.jpg') for i in range(5)] + [srv.url('files', f'gone/missing{i}.jpg') for i in range(5)]
           + [srv.url('hang', f'hang{i}.jpg') for i in range(3)] + [srv.url('truncated', p) for p in photos[:3]])
    return good + bad

def run_fastai(urls, dest, timeout):
    from fastai.vision.utils import download_images as fa_download, verify_images as fa_verify
    from fastai.data.transforms import get_image_files
    dest.mkdir(parents=True)
    t = time.perf_counter()
    fa_download(dest, urls=urls, timeout=timeout)
    t_dl = time.perf_counter() - t
    failed = fa_verify(get_image_files(dest))
    return dict(download=t_dl, total=time.perf_counter() - t, files=len(list(dest.iterdir())), flagged=len(failed),
                bad_left=bad_files(dest), report_rows=0)

def run_ours(urls, dest, timeout):
    t = time.perf_counter()
    rep = download_images(urls, dest, label='bears', timeout=timeout, allow_private=True, progress=False)
    t_dl = time.perf_counter() - t
    ver = verify_images(dest, progress=False)
    return dict(download=t_dl, total=time.perf_counter() - t, files=len(image_files(dest)), flagged=int((rep.status != 'ok').sum()),
                bad_left=bad_files(dest), report_rows=len(rep))

def main():
    bears = SHARED/'bears'
    if not bears.is_dir(): sys.exit(f'bench_data: {bears} is absent (it exists only beside the development checkout)')
    tmp = Path(tempfile.mkdtemp())
    rows = []
    try:
        with server_process(bears, latency=0.15) as srv:
            urls = url_set(srv, bears)
            for name, fn, timeout in [('fastai (defaults: 8 threads, 4 s)', run_fastai, 4), ('lesson2_lib (defaults: 128 threads, 10 s)', run_ours, 10),
                                      ('fastai, timeout 2 s', run_fastai, 2), ('lesson2_lib, timeout 2 s', run_ours, 2)]:
                rows.append((name, fn(urls, tmp/name.split()[0]/str(timeout), timeout)))
        print(f'{len(urls)} URLs (200 photos + 16 bad), 150 ms latency per answer\n')
        print(f'{"":42} {"download s":>10} {"+verify s":>10} {"files":>6} {"bad left":>9} {"report rows":>12}')
        for name, r in rows: print(f'{name:42} {r["download"]:10.2f} {r["total"]:10.2f} {r["files"]:6d} {r["bad_left"]:9d} {r["report_rows"]:12d}')
        base = rows[0][1]['total']
        print(f'\nwall-time ratio, fastai defaults / lesson2_lib defaults: {base / rows[1][1]["total"]:.1f}x')
        print(f'wall-time ratio, fastai defaults / lesson2_lib at 2 s:    {base / rows[3][1]["total"]:.1f}x')
        print(f'wall-time ratio, both at 2 s:                           {rows[2][1]["total"] / rows[3][1]["total"]:.1f}x')
        pets = SHARED/'pets'
        if pets.is_dir():
            with server_process(pets, latency=0.15) as srv:
                purls = [srv.url('files', p.relative_to(pets)) for p in sorted(pets.glob('*/*')) if p.is_file()]
                r = run_ours(purls, tmp/'pets', 10)
            print(f'\npets: {len(purls)} URLs, 150 ms latency: download {r["download"]:.1f} s ({len(purls)/r["download"]:.0f} URLs/s), '
                  f'download+verify {r["total"]:.1f} s, {r["files"]} files kept, {r["bad_left"]} bad left')
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
