// The pager (Element Plus' pagination and select) as the list pages use it: it sits under a
// list, so its code loads beside the page's instead of before the list can paint.
import { defineAsyncComponent } from 'vue'

export default defineAsyncComponent(() => import('./CoursePaging.vue'))
