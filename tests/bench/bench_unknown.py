""""None of these": four ways to tell a photo of another subject from the classes, for the models `lesson2 train` makes.

The classes are ../shared/datasets/bears (black, grizzly, teddy; trained on its usual split). The photos of other subjects
are ../shared/datasets/pets (a quarter of its cats and dogs), the built-in digits, and 30 photos gathered from the sample
images that scikit-image, scikit-learn, matplotlib and gradio ship (a cat, a lion, a cheetah, coffee, an astronaut, a
rocket, bricks, ...). For each model (the default head, `--epochs 1` and fastai's own `fine_tune` with `--fastai --epochs 1`,
all with --seed 0) and each score, on the same features:
- msp: 1 - the top softmax probability (Hendrycks and Gimpel 2017);
- energy: -logsumexp of the logits (Liu et al. 2020);
- mahalanobis: the smallest class-conditional Mahalanobis distance on the pooled body features, shared covariance with
  Ledoit-Wolf shrinkage (Lee et al. 2018);
- knn-k: 1 - cosine similarity to the k-th nearest training picture on the pooled body features (Sun et al. 2022);
it prints AUROC and the FPR at 95 % TPR (share of other photos scored below the 95th percentile of the validation bears).
Then the export's own verdict (k-NN, k=2, threshold set at export) on every set, and the latency the check adds to one
prediction on the full-size photos of ../shared/datasets/bears-full (target: under 10 % of the Predictor's p50)."""
import json, shutil, sys, tempfile, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np

SHARED = Path(__file__).resolve().parents[3]/'shared'/'datasets'
BEARS, PETS, FULL = SHARED/'bears', SHARED/'pets', SHARED/'bears-full'
PHOTO = ('.jpg', '.jpeg', '.png', '.webp')
MODELS = {'head (default)': [], '--epochs 1': ['--epochs', '1'], '--fastai --epochs 1': ['--fastai', '--epochs', '1']}

def gathered(dest:Path)->Path:
    "30 photos of other subjects from the sample images installed packages ship, copied into `dest`."
    import importlib.util
    root = lambda pkg: Path(importlib.util.find_spec(pkg).origin).parent
    names = [root('skimage')/'data'/f for f in ('astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg', 'motorcycle_left.png', 'retina.jpg',
             'hubble_deep_field.jpg', 'brick.png', 'grass.png', 'gravel.png', 'coins.png', 'camera.png', 'moon.png', 'page.png', 'text.png',
             'horse.png', 'logo.png', 'color.png', 'clock_motion.png', 'cell.png', 'ihc.png', 'microaneurysms.png', 'phantom.png')]
    names += [root('sklearn')/'datasets'/'images'/f for f in ('china.jpg', 'flower.jpg')]
    names += [root('matplotlib')/'mpl-data'/'sample_data'/'grace_hopper.jpg']
    names += [root('gradio')/'media_assets'/'images'/f for f in ('cheetah1.jpg', 'lion.jpg', 'tower.jpg', 'groot.jpeg')]
    dest.mkdir(parents=True)
    for f in names: shutil.copyfile(f, dest/f'{f.parent.name}-{f.name}')
    return dest

def digits(dest:Path)->list:
    "Every third readable picture of the built-in digits."
    from lesson2_lib.demo import demo_dataset
    from lesson2_lib.data import verify_images
    demo_dataset(dest); verify_images(dest, progress=False)
    return sorted(p for p in dest.glob('*/*.jpg'))[::3]

def features(learn, files:list, bs:int=32)->tuple:
    "(pooled body features, logits) of `files` through `learn`'s model in PyTorch, prepared as the Predictor prepares them."
    import torch
    from lesson2_lib.core import open_picture
    from lesson2_lib.deploy import prepare
    model, F, L = learn.model.eval().cpu(), [], []
    for i in range(0, len(files), bs):
        x = torch.from_numpy(np.stack([prepare(open_picture(f, 224), 224, 'crop', [.5] * 3, [.5] * 3) for f in files[i:i + bs]]))
        with torch.no_grad(): fm = model[0](x); F.append(fm.mean((2, 3)).numpy()); L.append(model[1](fm).numpy())
    return np.concatenate(F), np.concatenate(L)

def scores(tr:tuple, ytr:np.ndarray, sets:dict)->dict:
    "Every method's scores (higher: less like the training bears) for every set of (features, logits)."
    from scipy.special import logsumexp, softmax
    from sklearn.covariance import LedoitWolf
    from lesson2_lib.deploy import unknown_scores
    mu = np.stack([tr[0][ytr == c].mean(0) for c in np.unique(ytr)])
    prec = np.linalg.inv(LedoitWolf().fit(tr[0] - mu[ytr]).covariance_)
    maha = lambda F: np.stack([np.einsum('ij,jk,ik->i', F - m, prec, F - m) for m in mu], 1).min(1)
    methods = {'msp': lambda F, L: 1 - softmax(L, 1).max(1), 'energy': lambda F, L: -logsumexp(L, 1), 'mahalanobis': lambda F, L: maha(F)}
    methods |= {f'knn-{k}': (lambda F, L, k=k: unknown_scores(tr[0], F, k)) for k in (1, 2, 5)}
    return {m: {s: f(*fl) for s, fl in sets.items()} for m, f in methods.items()}

def auroc_fpr(inside:np.ndarray, outside:np.ndarray)->tuple:
    from sklearn.metrics import roc_auc_score
    auc = roc_auc_score(np.r_[np.zeros(len(inside)), np.ones(len(outside))], np.r_[inside, outside])
    return auc, float((outside <= np.quantile(inside, 0.95)).mean())

def model_table(name:str, learn, sets:dict, export:Path):
    "Print one model's AUROC / FPR95 per method and set, then what its export's verdict says on each set."
    from lesson2_lib.train import item_paths
    from lesson2_lib.deploy import Predictor
    tr_files, va_files = item_paths(learn.dls.train), item_paths(learn.dls.valid)
    o2i = learn.dls.vocab.o2i
    feats = {k: features(learn, v) for k, v in dict(train=tr_files, valid=va_files, **sets).items()}
    acc = float((feats['valid'][1].argmax(1) == np.array([o2i[f.parent.name] for f in va_files])).mean())
    s = scores(feats['train'], np.array([o2i[f.parent.name] for f in tr_files]), {k: v for k, v in feats.items() if k != 'train'})
    print(f'\n== {name}: validation accuracy {acc:.1%} ({len(va_files)} bears)')
    print(f'{"AUROC / FPR95":14}' + ''.join(f'{k + f" ({len(v)})":>24}' for k, v in sets.items()) + f'{"all others":>20}')
    for m, by in s.items():
        rows = [auroc_fpr(by['valid'], by[k]) for k in sets] + [auroc_fpr(by['valid'], np.concatenate([by[k] for k in sets]))]
        print(f'{m:14}' + ''.join(f'{a:16.4f} / {f:5.3f}' for a, f in rows[:-1]) + f'{rows[-1][0]:12.4f} / {rows[-1][1]:5.3f}')
    from scipy.special import softmax
    sure = np.mean(np.concatenate([softmax(feats[k][1], 1).max(1) for k in sets]) >= 0.9)
    print(f'its softmax gives a class at least 90 % to {sure:.0%} of the other photos')
    pred = Predictor(export)
    u = pred.unknown
    said = {k: np.mean([a['unknown'] for a in pred.predict_batch(v)]) for k, v in sets.items()}
    print(f'the export\'s verdict (knn-{u["k"]}, threshold {u["threshold"]:.3f} set for at most {u["share"]:.0%} of bears like the validation ones): '
          f'validation bears called unknown {u["valid_unknown"]:.1%} (scored against the training bears only); '
          + ', '.join(f'{k} {v:.1%}' for k, v in said.items()) + ' called unknown')

def latency_table(export:Path, tmp:Path, learn):
    "p50 of one prediction on the full-size bears with and without the check, the same model exported both ways."
    from lesson2_lib.deploy import Predictor, export_model, latency
    export_model(learn, tmp/'plain', 224, cache=tmp/'cache', unknown=None)
    blobs = [p.read_bytes() for p in sorted(FULL.glob('*/*')) if p.suffix.lower() in PHOTO][:60]
    with_check, without = Predictor(export, threads=2), Predictor(tmp/'plain', threads=2)
    runs = [(latency(with_check.predict, blobs)['p50'], latency(without.predict, blobs)['p50']) for _ in range(3)]   # interleaved: a busy machine hits both
    a, b = np.median([r[0] for r in runs]), np.median([r[1] for r in runs])
    x = with_check.inputs(blobs[:1])
    net = lambda p: latency(lambda _: p.session.run(None, {'pixels': x}), range(50))['p50']
    print(f'\nlatency on {len(blobs)} full-size bears, one at a time (median of 3 interleaved passes): with the check p50 {a:.1f} ms, '
          f'without {b:.1f} ms: the check adds {a - b:+.1f} ms = {(a - b) / b:+.1%} of p50 (target: under 10 %); '
          f'the network alone {net(with_check):.2f} ms with it, {net(without):.2f} ms without')

def main():
    if not all(d.is_dir() for d in (BEARS, PETS, FULL)): sys.exit(f'{Path(__file__).stem}: {SHARED} is absent (it exists only beside the development checkout)')
    from fastai.learner import load_learner
    from lesson2_lib.train import train, image_dls
    from lesson2_lib.deploy import export_model
    tmp = Path(tempfile.mkdtemp())
    shutil.copytree(BEARS, tmp/'bears')   # train sets aside what it cannot decode: never inside ../shared
    sets = {'pets': sorted(p for p in PETS.glob('*/*') if p.suffix.lower() in PHOTO)[::4], 'digits': digits(tmp/'digits'), 'gathered': sorted(gathered(tmp/'other').iterdir())}
    print(f'classes: {BEARS} (black, grizzly, teddy); other subjects: ' + ', '.join(f'{k} {len(v)}' for k, v in sets.items()))
    for name, args in MODELS.items():
        out = tmp/name.replace(' ', '').replace('-', '').replace('(', '').replace(')', '')
        epochs = int(args[args.index('--epochs') + 1]) if '--epochs' in args else 0
        m = train(tmp/'bears', out, epochs=epochs, fast='--fastai' not in args, seed=0, quiet=True, cache=tmp/'cache', export=export_model)
        learn = load_learner(out/'learner.pkl')
        learn.dls = image_dls(tmp/'bears', size=224, cache=tmp/'cache')   # the saved Learner has no data: the same split again
        model_table(f'{name} (kept: {m["kept"]})', learn, sets, out)
        if name == 'head (default)': latency_table(out, tmp, learn)
    shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__':
    main()
