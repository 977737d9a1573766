"""Web serving under load: lesson2_lib's app (`lesson2 serve`) against the lesson's original design, a Starlette route
calling fastai's learn.predict, both under uvicorn on 127.0.0.1, same model, 16 concurrent clients, three kinds of upload:
80 small bear photos (re-encoded, at most 512 px), the 150 full-size originals of ../shared/datasets/bears-full, and a
12-megapixel phone photo (4032 x 3024 JPEG, quality 92, shot sideways: EXIF orientation 6), made from one of them.
Not a timed test: it prints a table."""
import asyncio, io, sys, tempfile, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from browser import free_port, served
from test_app import rss_mb
from load import hammer
from bench_predict import BEARS, FULL, pictures

def original_design(folder, port):
    "The lesson's original app: an async Starlette route that calls learn.predict on the upload."
    import uvicorn
    from fastai.learner import load_learner
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    learn = load_learner(Path(folder)/'learner.pkl')
    async def analyze(request):
        data = await (await request.form())['file'].read()
        with learn.no_bar(): pred, idx, probs = learn.predict(data)
        return JSONResponse({'label': str(pred), 'prob': float(probs[idx])})
    uvicorn.run(Starlette(routes=[Route('/predict', analyze, methods=['POST']), Route('/healthz', lambda r: JSONResponse({}))]),
                host='127.0.0.1', port=port, log_level='warning')

def phone_photo()->bytes:
    "A 12-megapixel phone-style JPEG: the largest full-size bear scaled to 4032 x 3024, stored sideways with EXIF orientation 6."
    from PIL import Image
    src = max(pictures(full=True), key=lambda p: p.stat().st_size)
    im = Image.open(src).convert('RGB').resize((4032, 3024), Image.BICUBIC).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif(); exif[0x0112] = 6
    buf = io.BytesIO(); im.save(buf, 'JPEG', quality=92, exif=exif); return buf.getvalue()

def measure(cmd, loads:dict, log)->dict:
    "Start the server `cmd`, then for each load name: (n requests, photos) -> figures, and the server's RSS after each."
    port, out = free_port(), {}
    with served([*cmd, str(port)], f'http://127.0.0.1:{port}/healthz', log, 120) as proc:
        base = f'http://127.0.0.1:{port}'
        for name, (n, blobs) in loads.items():
            asyncio.run(hammer(base, blobs, min(n, 32)))
            codes, times, secs = asyncio.run(hammer(base, blobs, n))
            out[name] = dict(n=n, rps=n / secs, p50=np.percentile(times, 50), p99=np.percentile(times, 99),
                             errors=sum(c != 200 for c in codes), rss=rss_mb(proc.pid))
    return out

def main():
    if not (BEARS.is_dir() and FULL.is_dir()): sys.exit(f'{Path(__file__).stem}: {BEARS} is absent (it exists only beside the development checkout)')
    from lesson2_lib.train import image_dls, fast_learner
    from lesson2_lib.deploy import export_model
    tmp = Path(tempfile.mkdtemp())
    learn = fast_learner(image_dls(BEARS, size=224, bs=32), 224, cache=tmp/'cache', progress=False)
    learn.export(tmp/'learner.pkl'); export_model(learn, tmp, 224); export_model(learn, tmp/'int8', 224, int8=True)
    small, full, phone = ([p.read_bytes() for p in pictures()], [p.read_bytes() for p in pictures(full=True)], [phone_photo()])
    lesson2 = str(Path(sys.executable).parent/'lesson2')
    ours = measure([lesson2, 'serve', '--model', str(tmp), '--port'],
                   dict(small=(800, small), full=(600, full), phone=(100, phone), again=(600, full)), tmp/'ours.log')
    ours8 = measure([lesson2, 'serve', '--model', str(tmp/'int8'), '--port'],
                    dict(small=(800, small), full=(600, full), phone=(100, phone), again=(600, full)), tmp/'ours8.log')
    theirs = measure([sys.executable, __file__, 'original', str(tmp)], dict(small=(200, small), full=(150, full), phone=(32, phone)),
                     tmp/'original.log')
    print(f'224 px, 16 concurrent clients, uvicorn on 127.0.0.1; phone photo: {len(phone[0]) / 1e6:.1f} MB\n')
    print(f'{"":58} {"requests":>9} {"req/s":>7} {"p50 ms":>8} {"p99 ms":>8} {"errors":>7} {"RSS MB":>7}')
    titles = dict(small=f'{len(small)} small photos', full=f'{len(full)} full-size photos', phone='12 MP phone photo',
                  again='full-size again (RSS flat?)')
    for key, target in (('small', 5), ('full', 8), ('phone', 8), ('again', None)):
        for name, r in (('original', theirs.get(key)), ('lesson2 serve', ours[key]), ('lesson2 serve, --int8 export', ours8[key])):
            if r: print(f'{titles[key] + ": " + name:58} {r["n"]:9} {r["rps"]:7.1f} {r["p50"]:8.0f} {r["p99"]:8.0f} {r["errors"]:7} {r["rss"]:7.0f}')
        if target: print(f'  throughput: {ours[key]["rps"] / theirs[key]["rps"]:.1f}x the original design, {ours8[key]["rps"] / theirs[key]["rps"]:.1f}x '
                         f'with the 8-bit graph (target: at least {target}x)')

if __name__ == '__main__':
    original_design(sys.argv[2], int(sys.argv[3])) if len(sys.argv) == 4 and sys.argv[1] == 'original' else main()
