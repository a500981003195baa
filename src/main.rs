fn main() {
    confab::mount();
}
