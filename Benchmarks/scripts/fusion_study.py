#!/usr/bin/env python3
"""Fusion functions compared on dumped rankings: `engram memory eval --dump-rankings R.jsonl`, then
`python3 Benchmarks/scripts/fusion_study.py R.jsonl`. Prints MRR@10, hit@1, hit@10 per function."""
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
def clean(x): return x.strip('"')
def metrics(rank_fn):
    mrr=h1=h10=0
    for r in rows:
        ranked=rank_fn(r)[:10]
        rel=r['relevant']
        if rel in ranked:
            i=ranked.index(rel); mrr+=1/(i+1); h10+=1; h1+= i==0
    n=len(rows); return round(mrr/n,4), round(h1/n,4), round(h10/n,4)
def rrf(k, depth=100, wv=1.0, wk=1.0):
    def f(r):
        s={}
        for i,(d,_) in enumerate(r['vector'][:depth]): s[clean(d)]=s.get(clean(d),0)+wv/(k+i+1)
        for i,(d,_) in enumerate(r['keyword'][:depth]): s[clean(d)]=s.get(clean(d),0)+wk/(k+i+1)
        return [d for d,_ in sorted(s.items(), key=lambda x:-x[1])]
    return f
def cc(alpha, norm='minmax', depth=100):
    def f(r):
        s={}
        for lst,w in ((r['vector'][:depth],alpha),(r['keyword'][:depth],1-alpha)):
            if not lst: continue
            sc=[x for _,x in lst]; hi,lo=max(sc),min(sc)
            for d,x in lst:
                if norm=='minmax': v=(x-lo)/(hi-lo) if hi>lo else 1
                elif norm=='max': v=x/hi if hi>0 else 0
                s[clean(d)]=s.get(clean(d),0)+w*v
        return [d for d,_ in sorted(s.items(), key=lambda x:-x[1])]
    return f
print('vector', metrics(lambda r:[clean(d) for d,_ in r['vector']]))
print('keyword', metrics(lambda r:[clean(d) for d,_ in r['keyword']]))
for k in [5,10,20,30,60,100]: print('rrf k',k, metrics(rrf(k)))
for d in [20,50,100]: print('rrf60 depth',d, metrics(rrf(60,d)))
for a in [0.3,0.4,0.5,0.6,0.7]: print('cc minmax a',a, metrics(cc(a)))
for a in [0.3,0.4,0.5,0.6,0.7]: print('cc max a',a, metrics(cc(a,'max')))
