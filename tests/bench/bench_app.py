"""Web serving under load: lesson2_lib's app (`lesson2 serve`) against the lesson's original design, a Starlette route
calling fastai's learn.predict, both under uvicorn on 127.0.0.1, same model, same bear photos, 16 concurrent clients.
Not a timed test: it prints a table."""
import asyncio, subprocess, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from browser import free_port, served
from test_app import rss_mb
from load import hammer
from bench_predict import BEARS, pictures

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

def measure(cmd, n, blobs, log):
    port = free_port()
    with served([*cmd, str(port)], f'http://127.0.0.1:{port}/healthz', log, 120) as proc:
        base = f'http://127.0.0.1:{port}'
        asyncio.run(hammer(base, blobs, 32))
        codes, times, secs = asyncio.run(hammer(base, blobs, n))
        return dict(n=n, rps=n / secs, p50=np.percentile(times, 50), p99=np.percentile(times, 99),
                    errors=sum(c != 200 for c in codes), rss=rss_mb(proc.pid))

def main():
    if not BEARS.is_dir(): sys.exit(f'{Path(__file__).stem}: {BEARS} is absent (it exists only beside the development checkout)')
    from lesson2_lib.train import image_dls, fast_learner
    from lesson2_lib.deploy import export_model
    tmp = Path(tempfile.mkdtemp())
    learn = fast_learner(image_dls(BEARS, size=224, bs=32), 224, cache=tmp/'cache', progress=False)
    learn.export(tmp/'learner.pkl'); export_model(learn, tmp, 224)
    blobs = [p.read_bytes() for p in pictures()]
    lesson2 = str(Path(sys.executable).parent/'lesson2')
    ours = measure([lesson2, 'serve', '--model', str(tmp), '--port'], 800, blobs, tmp/'ours.log')
    theirs = measure([sys.executable, __file__, 'original', str(tmp)], 200, blobs, tmp/'original.log')
    print(f'{len(blobs)} bear photos, 224 px, 16 concurrent clients, uvicorn on 127.0.0.1\n')
    print(f'{"":34} {"requests":>9} {"req/s":>7} {"p50 ms":>8} {"p99 ms":>8} {"errors":>7} {"RSS MB":>7}')
    for name, r in (('original (route -> learn.predict)', theirs), ('lesson2 serve (Predictor)', ours)):
        print(f'{name:34} {r["n"]:9} {r["rps"]:7.1f} {r["p50"]:8.0f} {r["p99"]:8.0f} {r["errors"]:7} {r["rss"]:7.0f}')
    print(f'\nthroughput: {ours["rps"] / theirs["rps"]:.1f}x the original design (target: at least 5x)')

if __name__ == '__main__':
    original_design(sys.argv[2], int(sys.argv[3])) if len(sys.argv) == 4 and sys.argv[1] == 'original' else main()
