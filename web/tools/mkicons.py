# Renders the PNG icons from the same geometry as icons/icon.svg and icons/maskable.svg.
# Run from web/icons/:  python3 ../tools/mkicons.py   (needs Pillow: pip install pillow)
from PIL import Image, ImageDraw
ACC=(31,79,209,255); W=(255,255,255,255)
def house(d, s, ox, oy):
    # coordinates in the 512 design space, scaled by s and offset
    P=lambda x,y:(ox+x*s, oy+y*s)
    d.polygon([P(256,104),P(408,232),P(408,392),P(384,416),P(128,416),P(104,392),P(104,232)], fill=W)
    d.rounded_rectangle([P(104,368),P(408,416)], radius=24*s, fill=W)
    d.rounded_rectangle([P(218,296),P(294,416)], radius=12*s, fill=ACC)
    d.rectangle([P(218,380),P(294,416)], fill=ACC)
def make(size, maskable, out):
    k=4; S=size*k
    im=Image.new('RGBA',(S,S),(0,0,0,0)); d=ImageDraw.Draw(im)
    if maskable:
        d.rectangle([0,0,S,S], fill=ACC)
        s=S/512*0.72; ox=S/2-256*s; oy=S/2-260*s
    else:
        d.rounded_rectangle([0,0,S-1,S-1], radius=112*S/512, fill=ACC)
        s=S/512; ox=oy=0
    house(d,s,ox,oy)
    im=im.resize((size,size), Image.LANCZOS)
    im.save(out, optimize=True)
make(192,False,'icon-192.png'); make(512,False,'icon-512.png'); make(512,True,'maskable-512.png'); make(180,True,'apple-touch-icon.png')
