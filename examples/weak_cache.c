/*
 * weak_cache.c - a cache with weak references (like weakref.WeakValueDictionary):
 * the cache maps names to weak references, so it never keeps an entry
 * alive; an entry vanishes the moment its last strong reference goes, and
 * the weak reference's callback removes its key.
 */
#include <stdio.h>

#include <objmem.h>

typedef struct image {
    OM_OBJECT_HEAD
    char pixels[200];
} image;

static const om_type image_type = {
    .name = "image",
    .basic_size = sizeof(image),
    .flags = OM_TYPE_WEAKREFABLE,
};

typedef struct cache {
    om_heap *h;
    om_object *map; /* dict: name -> weak reference */
    int evicted;
} cache;

typedef struct entry_ctx {
    cache *c;
    char name[32];
} entry_ctx;
static entry_ctx ctxs[8];

/* The weak reference's callback: the image died, forget its name. */
static void on_dead(om_object *wr, void *arg)
{
    entry_ctx *e = arg;
    (void)wr;
    om_object *key = om_str_from_cstr(e->c->h, e->name);
    if (key && om_dict_del(e->c->map, key) == 0) e->c->evicted++;
    om_xdecref(key);
}

/* The cached image called name, made (and cached) when absent. New ref. */
static om_object *cache_get(cache *c, int slot, const char *name)
{
    om_object *key = om_str_from_cstr(c->h, name), *wr = key ? om_dict_get(c->map, key) : NULL;
    om_object *img = wr ? om_weakref_get(wr) : NULL;
    om_xdecref(wr);
    if (!img && key) {
        img = om_new(c->h, &image_type);
        ctxs[slot].c = c;
        snprintf(ctxs[slot].name, sizeof ctxs[slot].name, "%s", name);
        wr = img ? om_weakref_new(c->h, img, on_dead, &ctxs[slot]) : NULL;
        if (!wr || om_dict_set(c->map, key, wr) < 0) om_clear_ref(&img);
        om_xdecref(wr);
    }
    om_xdecref(key);
    return img;
}

/* Say what failed, with the heap's message for it (om_errmsg) when there
 * is one (h NULL: the heap is gone, or was never made), and return 1. */
static int fail(om_heap *h, const char *what)
{
    if (h && om_errmsg(h)[0])
        fprintf(stderr, "weak_cache: %s failed: %s\n", what, om_errmsg(h));
    else
        fprintf(stderr, "weak_cache: %s failed\n", what);
    return 1;
}

int main(void)
{
    om_heap *h = om_heap_new(NULL);
    if (!h) return fail(NULL, "om_heap_new (out of memory)");
    cache c = {h, om_dict_new(h), 0};
    om_object *a = cache_get(&c, 0, "logo.png"), *b = cache_get(&c, 1, "icon.png");
    om_object *a2 = cache_get(&c, 0, "logo.png");
    if (!c.map || !a || !b || !a2) return fail(h, "caching two images");
    printf("two images cached: %zu entries; logo.png twice is %s object\n", om_dict_len(c.map),
           a == a2 ? "one" : "two different");
    om_decref(a2);
    om_decref(a); /* the last strong reference to logo.png */
    printf("logo.png dropped: %zu entry left, %d evicted by the weakref callback\n",
           om_dict_len(c.map), c.evicted);
    om_decref(b);
    printf("icon.png dropped: %zu entries left, %d evicted\n", om_dict_len(c.map), c.evicted);
    int ok = om_dict_len(c.map) == 0 && c.evicted == 2 && a == a2;
    om_decref(c.map);
    om_heap_destroy(h);
    return ok ? 0 : fail(NULL, "evicting both entries");
}
