# gnuplot script: RSS and live objects over time from `objmem soak` output.
#   gnuplot -e "in='docs/soak-10min.txt'; out='docs/soak-rss.png'" docs/soak-rss.gp
if (!exists("in")) in = 'docs/soak-10min.txt'
if (!exists("out")) out = 'docs/soak-rss.png'
set terminal pngcairo size 900,450 noenhanced
set output out
set title 'objmem soak: RSS and live objects (seed 1, 20000 slots)'
set xlabel 'elapsed (s)'
set ylabel 'RSS (MiB)'
set y2label 'live objects (thousands)'
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set key bottom right
set grid
plot in using 1:($3/1024.0) with lines lw 2 title 'RSS (MiB)', \
     in using 1:($2/1000.0) axes x1y2 with lines lw 1 title 'live objects (k)'
