// Storefront entry: Pinia, the router, and the API's login hooks.
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { router } from './router'
import { installAuth, useUserStore } from './stores/user'
import './styles.css'

const app = createApp(App)
app.use(createPinia())
installAuth(useUserStore())
app.use(router)
app.mount('#app')
