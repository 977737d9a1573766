"Downloading as a user meets it: a real threaded HTTP server on 127.0.0.1, the `lesson2` command, kills and reruns."
import contextlib, json, os, signal, subprocess, threading, time
from pathlib import Path
import pandas as pd
import pytest
from conftest import lesson2, BIN
from lesson2_lib.demo import demo_dataset
from lesson2_lib.practice import PracticeServer
from lesson2_lib.data import download_images, image_files, inspect_image, url_name, read_url_files

@pytest.fixture
def site(tmp_path):
    "A small demo dataset served on 127.0.0.1."
    m = demo_dataset(tmp_path/'site'/'digits', per_class=12)
    with PracticeServer(tmp_path/'site', latency=0.01) as srv: yield srv, m, tmp_path

def assert_no_bad_files(folder):
    "Every file under an image name in `folder` is a complete picture, and no temporary file is left."
    for p in image_files(folder): inspect_image(p.read_bytes())
    assert not list(Path(folder).glob('*/.*.part'))

def test_every_bad_answer_gets_a_reason(site):
    srv, m, tmp = site
    good = m.path[m.kind == 'clean'].iloc[0]
    bad = {'html': srv.url('html', 'a.jpg'), '404': srv.url('status', 404), '500': srv.url('status', 500),
           'truncated': srv.url('truncated', f'digits/{good}'), 'hang': srv.url('hang', 'h.jpg'),
           'loop': srv.url('loop', 'l.jpg'), 'big': srv.url('big', 30), 'bomb': srv.url('bomb.png'),
           'corrupt': srv.url('files', 'digits/' + m.path[m.how == 'corrupt'].iloc[0]),
           'file': 'file:///etc/passwd', 'malformed': 'just some words', 'data': 'data:image/png;base64,%%%'}
    lst = tmp/'mixed.txt'
    lst.write_text('\n'.join([srv.url('files', f'digits/{good}'), '  ', '"' + srv.url('redirect/1', f'digits/{good}') + '",',
                              *bad.values()]) + '\n')
    r = lesson2('download', lst, '--dest', tmp/'out', '--allow-private', '--timeout', '2', '--json')
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    rep = pd.read_csv(tmp/'out'/'download_report.csv', keep_default_na=False)
    assert len(rep) == 2 + len(bad) == summary['urls']
    # the same bytes under two URLs (one through a redirect): whichever answers first is saved, the other is reported as its copy
    first, second = rep.iloc[:2].sort_values('status', key=lambda s: s != 'ok').itertuples()
    assert (first.status, second.status) == ('ok', 'duplicate') and second.reason == f'same bytes as {first.path}', rep.iloc[:2]
    rows = rep[2:].set_index(pd.Index(list(bad)))
    assert set(rows.status) <= {'failed', 'refused'} and (rows.reason.str.len() > 5).all()
    assert rows.reason['html'] == 'not an image: an HTML page'
    assert rows.reason['truncated'].startswith('connection closed early')
    assert rows.reason['hang'].startswith('timed out')
    assert rows.reason['bomb'].startswith('too many pixels')
    assert rows.status['file'] == 'refused'
    assert_no_bad_files(tmp/'out')

def test_refusal_happens_before_any_connection(site):
    srv, m, tmp = site
    url = srv.url('files', 'digits/' + m.path.iloc[0])
    rep = download_images([url, srv.url('goto') + '?url=' + url], tmp/'out', progress=False)
    assert list(rep.status) == ['refused', 'refused'] and srv.connections == 0
    with PracticeServer() as hop:   # allowed server redirecting to a forbidden one: refused at the hop
        rep = download_images([hop.url('goto') + '?url=' + url], tmp/'out2', progress=False, allow_private=[f'127.0.0.1:{hop.port}'])
        assert rep.status[0] == 'refused' and hop.connections == 1 and srv.connections == 0
    rep = download_images(['http://10.255.255.1/x.jpg', 'http://[fd00::1]/y.jpg', 'http://169.254.169.254/z'], tmp/'out3', progress=False)
    assert set(rep.status) == {'refused'}

def test_unusable_arguments_exit_2(tmp_path):
    r = lesson2('download', tmp_path/'none.txt', '--dest', tmp_path/'out')
    assert r.returncode == 2 and 'no URL file at' in r.stderr
    (tmp_path/'a.txt').write_text('http://127.0.0.1:9/x.jpg\n')
    assert lesson2('download', tmp_path/'a.txt', '--dest', tmp_path/'out', '--timeout', '-1').returncode == 2
    assert lesson2('download', tmp_path/'a.txt').returncode == 2  # --dest is required

def test_unsafe_class_names_are_refused(tmp_path):
    (tmp_path/'l.csv').write_text('url,label\nhttp://127.0.0.1:9/a.jpg,../../escape\nhttp://127.0.0.1:9/b.jpg,.hidden\n')
    rep = download_images(read_url_files([tmp_path/'l.csv']), tmp_path/'out', progress=False, allow_private=True)
    assert set(rep.status) == {'refused'} and rep.reason.str.startswith('unusable class name').all()
    assert sorted(p.name for p in (tmp_path/'out').iterdir()) == ['download_report.csv']

@contextlib.contextmanager
def download_cut_short(site, name, workers, first=6, **popen):
    "Start `lesson2 download` of the clean demo pictures from a slow server; yield (urls, dest, proc) once `first` files are saved."
    srv, m, tmp = site
    slow = PracticeServer(tmp/'site', latency=0.3).start()
    try:
        urls = [slow.url('files', f'digits/{p}') for p in m.path[m.kind == 'clean']]
        (tmp/name).write_text('\n'.join(urls) + '\n')
        dest = tmp/'out'
        # SIGINT as a terminal leaves it: a shell's background job (`make test &`) starts its children with SIGINT ignored
        proc = subprocess.Popen([str(BIN/'lesson2'), 'download', str(tmp/name), '--dest', str(dest),
                                 '--allow-private', '--workers', str(workers)], preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **popen)
        deadline = time.time() + 60
        while time.time() < deadline and len(image_files(dest) if dest.exists() else []) < first: time.sleep(0.05)
        yield slow, urls, dest, proc
    finally: slow.stop()

def test_kill_mid_download_then_resume(site):
    tmp = site[2]
    with download_cut_short(site, 'digits.txt', workers=2, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as (slow, urls, dest, proc):
        proc.send_signal(signal.SIGKILL); proc.wait()
        finished = {p.stem for p in image_files(dest)}
        assert 6 <= len(finished) < len(urls), 'the kill should land mid-run'
        assert_no_bad_files(dest)
        served_before = len(slow.requests)
        r = lesson2('download', tmp/'digits.txt', '--dest', dest, '--allow-private', '--workers', '8', '--json')
        assert r.returncode == 0, r.stderr
        rep = pd.read_csv(dest/'download_report.csv', keep_default_na=False)
        assert set(rep.status) == {'ok', 'exists'} and (rep.status == 'exists').sum() == len(finished)
        again = {p.split('/')[-1] for p in slow.requests[served_before:]}
        assert not {Path(u).name for u in urls if url_name(u) in finished} & again, 'finished files were downloaded again'
        assert len(image_files(dest)) == len(urls)
        assert_no_bad_files(dest)

def test_verify_and_dedupe_commands(site):
    srv, m, tmp = site
    r = lesson2('verify', tmp/'site'/'digits', '--json')
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s['status']['quarantined'] == (m.kind == 'broken').sum() and s['status']['converted'] == 4
    assert (tmp/'site'/'digits.quarantine'/'quarantine.csv').exists()
    r = lesson2('dedupe', tmp/'site'/'digits', '--json', '--move')
    s = json.loads(r.stdout)
    assert s['exact'] == (m.kind == 'exact_dup').sum() and s['near'] == (m.kind == 'near_dup').sum() and s['moved'] == s['duplicates']
    assert json.loads(lesson2('dedupe', tmp/'site'/'digits', '--json').stdout)['duplicates'] == 0

def test_data_commands_do_not_import_torch():
    code = "import sys, lesson2_lib.data, lesson2_lib.practice; print([m for m in ('torch', 'fastai') if m in sys.modules])"
    out = subprocess.run([str(BIN/'python'), '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == '[]'

def test_ctrl_c_keeps_finished_files_and_the_report(site):
    "Ctrl+C mid-run: exit 130, whole files only, a report row for every URL saying what was not done; a rerun finishes the job."
    tmp = site[2]
    with download_cut_short(site, 'digits.txt', workers=2, first=4, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as (slow, urls, dest, proc):
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and 'interrupted' in err and 'Traceback' not in err, err
        rep = pd.read_csv(dest/'download_report.csv', keep_default_na=False)
        assert len(rep) == len(urls)
        saved, skipped = rep[rep.status == 'ok'], rep[rep.reason.str.contains('interrupted')]
        assert len(saved) >= 4 and len(skipped) > 0 and len(saved) + len(skipped) == len(urls)
        assert sorted(saved.path) == sorted(str(p.relative_to(dest)) for p in image_files(dest))
        assert_no_bad_files(dest)
        r = lesson2('download', tmp/'digits.txt', '--dest', dest, '--allow-private', '--json')
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)['status'] == {'exists': len(saved), 'ok': len(skipped)}

SERVE = ("import sys, time; from lesson2_lib.practice import PracticeServer; s = PracticeServer(sys.argv[1]).start(); "
         "print(s.port, flush=True); time.sleep(600)")

def test_a_server_paused_for_3_s_loses_no_good_picture(tmp_path):
    "The course's download while its server's process stops for 3 s (SIGSTOP, then SIGCONT): every good picture saved, every planted fault caught."
    from lesson2_lib.lesson import demo_pipeline, lost_pictures
    m = demo_dataset(tmp_path/'site'/'dataset')
    proc = subprocess.Popen([str(BIN/'python'), '-c', SERVE, str(tmp_path/'site')], stdout=subprocess.PIPE, text=True)
    paused = []
    def pause():   # once 400 of the 1,823 pictures are saved: the rest are in flight or waiting
        while len(image_files(tmp_path/'run'/'images') if (tmp_path/'run'/'images').exists() else []) < 400: time.sleep(0.005)
        os.kill(proc.pid, signal.SIGSTOP); start = time.monotonic(); time.sleep(3)
        os.kill(proc.pid, signal.SIGCONT); paused.append((time.monotonic() - start, len(image_files(tmp_path/'run'/'images'))))
    try:
        port = int(proc.stdout.readline())
        staller = threading.Thread(target=pause, daemon=True); staller.start()
        run = demo_pipeline(tmp_path/'site'/'dataset', m, tmp_path/'run', progress=False, server=PracticeServer(port=port))
        staller.join(timeout=10)
    finally: proc.kill(); proc.wait()
    d = run['downloaded']
    assert paused and paused[0][0] >= 3 and paused[0][1] < (d.status == 'ok').sum(), f'the pause should land mid-download: {paused}'
    assert lost_pictures(m, d) == [], lost_pictures(m, d)
    assert sorted(d.status.value_counts().items()) == [('duplicate', 8), ('failed', 6), ('ok', 1809)], d.status.value_counts()
    assert all(caught == planted for caught, planted in run['scores'].values()), run['scores']
    assert (d.attempts > 1).sum() > 0, 'the pause should have made some requests try again'
