"""CPU prediction: fastai's learn.predict against lesson2_lib's Predictor on the portable export, side by side in one run.

Same model (EfficientNet-Lite0 with a head fitted on ../shared/datasets/bears at 224 px), same photos, end to end: the
file's bytes in, the label out. Two sets: 80 of the re-encoded bears (at most 512 px) and all 150 originals of
../shared/datasets/bears-full (median ~390 kB, up to 22 megapixels; JPEG, WebP, PNG). Each side runs in its own process,
both sets one after the other, so that its peak memory is its own. Not a timed test: it prints a table."""
import json, subprocess, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np

BEARS = Path(__file__).resolve().parents[3]/'shared'/'datasets'/'bears'
FULL = BEARS.with_name('bears-full')
N, BATCH = 80, 32

def pictures(full:bool=False)->list:
    "80 small bear photos, or every full-size one."
    if full: return sorted(p for p in FULL.glob('*/*') if p.is_file())
    return sorted(p for p in BEARS.glob('*/*') if p.suffix.lower() in ('.jpg', '.jpeg', '.png'))[::5][:N]

def peak_mb()->int:
    "This process's peak resident memory (VmHWM: unlike ru_maxrss it does not include the parent's before exec)."
    line = next(l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmHWM:'))
    return int(line.split()[1]) // 1024

def side(name, folder):
    "Measure one side in this process on both sets; print its figures as JSON."
    from lesson2_lib.deploy import latency
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
    res = {}
    for full in (False, True):
        blobs = [p.read_bytes() for p in pictures(full)]
        ms = latency(one, blobs)
        start = time.perf_counter()
        for i in range(0, len(blobs), BATCH): batch(blobs[i:i + BATCH])
        per_s = len(blobs) / (time.perf_counter() - start)
        res['full' if full else 'small'] = dict(ms, batch_per_s=round(per_s, 1), peak_mb=peak_mb(), labels=[one(b) for b in blobs])
        if name != 'fastai':   # where one prediction's time goes: the picture (decode, crop, resize, normalise), then the network
            xs = [pred.inputs([b]) for b in blobs]
            res['full' if full else 'small'] |= dict(picture=latency(pred.inputs, [[b] for b in blobs])['p50'],
                                                     network=latency(lambda x: pred.session.run(None, {'pixels': x}), xs)['p50'])
    print(json.dumps(res))

def int8_line(what:str, q:dict)->str:
    "The export's verdict on its 8-bit graph, with what it measured."
    return (f'8-bit graph of the {what} model: kept {q["kept"]}; Predictor p50 {q["p50_ms"]["int8"]} ms with it against '
            f'{q["p50_ms"]["float32"]} ms float (kept only if {q["min_saving"]:.0%} faster); same class as the float graph on '
            f'{q["agreement"]:.1%} of {q["pictures"]} validation pictures ({q["alone"]:.1%} without the fallback, which '
            f'{q["fallback_share"]:.1%} of them took)')

def full_size_int8(folder:Path, q:dict, runs:int=3)->str:
    "The default Predictor of the bears' --int8 export against its float graph on every full-size photo, interleaved, `runs` times: the noise shows."
    from lesson2_lib.deploy import int8_breakdown
    if not q['kept']: return '  on full-size photos: the export kept the float graph, so its default Predictor is the float Predictor'
    lines = []
    for i in range(runs):
        b = int8_breakdown(folder, pictures(True), passes=1)
        t, n = b['predict_ms'], b['network_ms']
        lines.append(f'  {b["pictures"]} full-size photos, run {i + 1}: Predictor p50 {t["int8"]} ms with the 8-bit graph, {t["float32"]} ms '
                     f'float ({t["float32"] / t["int8"]:.2f}x); the network alone {n["int8"]} against {n["float32"]} ms; the float graph '
                     f'settled {b["settled_by_float"]:.1%} of them')
    return '\n'.join(lines)

def digits_int8(tmp:Path)->dict:
    "The `int8` record of a `--int8` export of the built-in digits (96 px, the head alone), as 02_train trains them."
    from lesson2_lib.demo import demo_dataset
    from lesson2_lib.train import image_dls, fast_learner
    from lesson2_lib.deploy import export_model
    from lesson2_lib.data import verify_images
    demo_dataset(tmp/'digits'); verify_images(tmp/'digits', progress=False)   # sets the planted broken files aside
    learn = fast_learner(image_dls(tmp/'digits', size=96, flip=False), 96, cache=tmp/'cache96', progress=False)
    return export_model(learn, tmp/'digits-int8', 96, int8=True)['int8']

def main():
    if not (BEARS.is_dir() and FULL.is_dir()): sys.exit(f'{Path(__file__).stem}: {BEARS} is absent (it exists only beside the development checkout)')
    from lesson2_lib.train import image_dls, fast_learner
    from lesson2_lib.deploy import export_model
    tmp = Path(tempfile.mkdtemp())
    learn = fast_learner(image_dls(BEARS, size=224, bs=32), 224, cache=tmp/'cache', progress=False)
    learn.export(tmp/'learner.pkl'); export_model(learn, tmp, 224)
    q8 = export_model(learn, tmp/'int8', 224, int8=True)['int8']
    run = lambda s, d: json.loads(subprocess.run([sys.executable, __file__, s, str(d)], capture_output=True, text=True, check=True).stdout.splitlines()[-1])
    res = {'fastai learn.predict': run('fastai', tmp), 'Predictor (default export)': run('lesson2', tmp),
           'Predictor (train --int8)': run('lesson2', tmp/'int8')}
    print('224 px, bytes in -> label out, one picture at a time; each side in its own process')
    print(int8_line('bears', q8))
    print(full_size_int8(tmp/'int8', q8))
    print(int8_line('digits', digits_int8(tmp)) + '\n')
    print(f'{"":50} {"p50 ms":>8} {"p90 ms":>8} {"p99 ms":>8} {"batch pics/s":>13} {"peak MB":>8}')
    for key, target in (('small', 4), ('full', 6)):
        sizes = [p.stat().st_size for p in pictures(key == 'full')]
        title = f'{len(sizes)} {"full-size" if key == "full" else "small"}'
        for name, r in res.items():
            print(f'{title + ": " + name:50} {r[key]["p50"]:8.1f} {r[key]["p90"]:8.1f} {r[key]["p99"]:8.1f} {r[key]["batch_per_s"]:13.1f} {r[key]["peak_mb"]:8}')
        a = res['fastai learn.predict'][key]
        for name, r in list(res.items())[1:]:
            b, same = r[key], sum(x == y for x, y in zip(a['labels'], r[key]['labels']))
            print(f'  {name}: p50 {a["p50"] / b["p50"]:.1f}x faster than learn.predict (target: at least {target}x); '
                  f'batch {b["batch_per_s"] / a["batch_per_s"]:.1f}x; same label on {same}/{len(a["labels"])} photos')
            print(f'    where its time goes: the picture (decode, crop, resize, normalise) p50 {b["picture"]:.1f} ms, the network '
                  f'p50 {b["network"]:.1f} ms; 1/{target} of learn.predict is {a["p50"] / target:.1f} ms')
        print(f'  ({title} photos: median {np.median(sizes) / 1e3:.0f} kB)\n')

if __name__ == '__main__':
    side(sys.argv[1], sys.argv[2]) if len(sys.argv) == 3 else main()
