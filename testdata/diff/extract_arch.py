#!/usr/bin/python3
# Regenerates testdata/diff/arch/<folder>.json (model config) and <folder>.weights.tsv (h5py ground truth)
# from the shared corpus. Usage: /usr/bin/python3 testdata/diff/extract_arch.py (run from anywhere).
# Extracts model configs and ground-truth weight shapes from corpus H5/JSON files with h5py.
import h5py, json, os, re
C='/work/shared/corpus'; OUT='/work/main/testdata/diff/arch'
def attr_list(g, name):
    if name in g.attrs: v = g.attrs[name]
    else:
        v=[]; i=0
        while f"{name}{i}" in g.attrs: v += list(g.attrs[f"{name}{i}"]); i+=1
    return [x.decode() if isinstance(x, bytes) else str(x) for x in v]
def s(x): return x.decode() if isinstance(x, bytes) else x
pairs = {}  # folder -> (config_json_text, keras_version, weights_h5)
for folder in sorted(os.listdir(C)):
    d=os.path.join(C,folder)
    if not os.path.isdir(d): continue
    files=sorted(os.listdir(d))
    h5s=[f for f in files if (f.endswith('.h5') or f.endswith('.hdf5')) and 'inputs_and_outputs' not in f]
    jsons=[f for f in files if f.endswith('.json')]
    cfg=None; kv=None; wfile=None
    for f in h5s:
        with h5py.File(os.path.join(d,f),'r') as h:
            if 'model_config' in h.attrs and cfg is None:
                cfg=s(h.attrs['model_config']); kv=s(h.attrs.get('keras_version')); wfile=os.path.join(d,f)
    if cfg is None and jsons and h5s:
        j=json.load(open(os.path.join(d,jsons[0])))
        if 'class_name' in j and 'config' in j:
            kv=j.get('keras_version'); cfg=json.dumps({k:v for k,v in j.items() if k not in ('keras_version','backend')})
            wfile=os.path.join(d,h5s[0])
    if cfg is None: continue
    doc=json.loads(cfg)
    if kv: doc['keras_version']=kv
    with open(os.path.join(OUT,folder+'.json'),'w') as o: json.dump(doc,o)
    with h5py.File(wfile,'r') as h, open(os.path.join(OUT,folder+'.weights.tsv'),'w') as o:
        wg=h['model_weights'] if 'model_weights' in h else h
        o.write(f"# ground truth from {os.path.relpath(wfile,C)} via h5py: layer, weight name, shape\n")
        for ln in attr_list(wg,'layer_names'):
            for wn in attr_list(wg[ln],'weight_names'):
                o.write(f"{ln}\t{wn}\t{','.join(str(x) for x in wg[ln][wn].shape)}\n")
    print(folder, kv, os.path.relpath(wfile,C))
