"""CPU prediction: fastai's learn.predict against lesson2_lib's Predictor on the portable export, side by side in one run.

Same model (EfficientNet-Lite0 with a head fitted on ../shared/datasets/bears at 224 px), same full-size photos, end to
end: the file's bytes in, the label out. Each side runs in its own process so that its peak memory is its own.
Not a timed test: it prints a table."""
import json, subprocess, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np

BEARS = Path(__file__).resolve().parents[3]/'shared'/'datasets'/'bears'
N, BATCH = 80, 32

def pictures(): return sorted(p for p in BEARS.glob('*/*') if p.suffix.lower() in ('.jpg', '.jpeg', '.png'))[::5][:N]

def peak_mb()->int:
    "This process's peak resident memory (VmHWM: unlike ru_maxrss it does not include the parent's before exec)."
    line = next(l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmHWM:'))
    return int(line.split()[1]) // 1024

def side(name, folder):
    "Measure one side in this process; print its figures as JSON."
    from lesson2_lib.deploy import latency
    blobs = [p.read_bytes() for p in pictures()]
    if name == 'fastai':
        from fastai.learner import load_learner
        learn = load_learner(Path(folder)/'learner.pkl')
        one = lambda b: learn.predict(b)[0]
        def batch(bs):
            dl = learn.dls.test_dl(bs); return learn.get_preds(dl=dl)[0]
        ctx = learn.no_bar(); ctx.__enter__()
    else:
        from lesson2_lib.deploy import Predictor
        pred = Predictor(folder)
        one = lambda b: pred.predict(b)['label']
        batch = pred.predict_batch
    ms = latency(one, blobs)
    start = time.perf_counter()
    for i in range(0, len(blobs), BATCH): batch(blobs[i:i + BATCH])
    per_s = len(blobs) / (time.perf_counter() - start)
    labels = [one(b) for b in blobs[:20]]
    print(json.dumps(dict(ms, batch_per_s=round(per_s, 1), peak_mb=peak_mb(), labels=labels)))

def main():
    if not BEARS.is_dir(): sys.exit(f'{Path(__file__).stem}: {BEARS} is absent (it exists only beside the development checkout)')
    from lesson2_lib.train import image_dls, fast_learner
    from lesson2_lib.deploy import export_model
    tmp = Path(tempfile.mkdtemp())
    learn = fast_learner(image_dls(BEARS, size=224, bs=32), 224, cache=tmp/'cache', progress=False)
    learn.export(tmp/'learner.pkl'); export_model(learn, tmp, 224)
    res = {s: json.loads(subprocess.run([sys.executable, __file__, s, str(tmp)], capture_output=True, text=True, check=True).stdout.splitlines()[-1])
           for s in ('fastai', 'lesson2')}
    sizes = [p.stat().st_size for p in pictures()]
    print(f'{len(sizes)} bear photos (median {np.median(sizes) / 1e3:.0f} kB), 224 px, bytes in -> label out, one picture at a time\n')
    print(f'{"":26} {"p50 ms":>8} {"p90 ms":>8} {"p99 ms":>8} {"batch pics/s":>13} {"peak MB":>8}')
    for s, r in res.items():
        print(f'{("fastai learn.predict" if s == "fastai" else "lesson2 Predictor"):26} {r["p50"]:8.1f} {r["p90"]:8.1f} {r["p99"]:8.1f} {r["batch_per_s"]:13.1f} {r["peak_mb"]:8}')
    a, b = res['fastai'], res['lesson2']
    print(f'\np50 latency: Predictor takes {b["p50"] / a["p50"]:.2f} of learn.predict\'s time ({a["p50"] / b["p50"]:.1f}x faster; target: at most 0.25)')
    print(f'batch throughput: {b["batch_per_s"] / a["batch_per_s"]:.1f}x; same label on {sum(x == y for x, y in zip(a["labels"], b["labels"]))}/20 photos')

if __name__ == '__main__':
    side(sys.argv[1], sys.argv[2]) if len(sys.argv) == 3 else main()
